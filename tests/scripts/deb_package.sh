#!/usr/bin/env bash
# The Debian packages as a sysadmin meets them: debian/ builds with
# dpkg-buildpackage (in a copy of the tree, so the worktree stays clean),
# lintian finds nothing, and both packages install with apt into a fresh
# Debian 12 (the cached mmdebstrap bookworm of lib/debroot.sh; the
# dependencies come from this machine's own apt sources, as the root's
# were). There the installed binaries run, the sysusers and tmpfiles
# entries made the users and the state directory, the units verify, the
# server checks its shipped configuration (refused for want of TLS, with
# the message saying what to set), starts as its user with a certificate
# and answers, the feed sync unit's command syncs the shipped sources
# (pointed at local copies), and purge removes the configuration. What is expected
# comes from the Debian tools (dpkg-deb, dpkg-query, getent, stat,
# systemd-analyze) and the files in dist/, not from patchwarden.
. "$(dirname "$0")/lib/test-lib.sh"
. "$(dirname "$0")/lib/debroot.sh"
. "$(dirname "$0")/lib/aptrepo.sh"

test_require root
test_require_cmd dpkg-buildpackage dpkg-parsechangelog dh fakeroot lintian mmdebstrap chroot \
  unshare mount git tar openssl curl jq python3 zcat systemd-sysusers flock sha256sum
: "${PW_SOURCE_DIR:?}"

TMP=$(mktemp -d /tmp/pw-deb.XXXXXX)
SRV_PID=
cleanup() {
  [ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
  [ -n "${APTREPO_PID:-}" ] && kill "$APTREPO_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT

# ---- build ------------------------------------------------------------
# The tree as it is now (tracked and new files, not build/ or ignored ones).
mkdir "$TMP/src"
git -C "$PW_SOURCE_DIR" ls-files -z -co --exclude-standard |
  tar -C "$PW_SOURCE_DIR" --null -T - -cf - | tar -C "$TMP/src" -xf -
version=$(dpkg-parsechangelog -l "$TMP/src/debian/changelog" -S Version)
upstream=${version%-*}
arch=$(dpkg --print-architecture)
# The source package too, for lintian's checks of debian/ itself
# (copyright's file patterns and licences, control, rules): from an
# upstream tarball of the tree without debian/, made before the build
# leaves its files in the tree.
tar -C "$TMP" --transform "s,^src,patchwarden-$upstream," --exclude=src/debian \
  -czf "$TMP/patchwarden_$upstream.orig.tar.gz" src
(cd "$TMP/src" && timeout 300 dpkg-buildpackage -us -uc -S -d) >"$TMP/source.log" 2>&1
rc=$?
check "dpkg-buildpackage -S exits 0 (exit $rc): $(tail -3 "$TMP/source.log")" test "$rc" -eq 0

(cd "$TMP/src" && timeout 900 dpkg-buildpackage -us -uc -b -j2) >"$TMP/build.log" 2>&1
rc=$?
check "dpkg-buildpackage -b exits 0 (exit $rc): $(tail -5 "$TMP/build.log")" test "$rc" -eq 0
srv_deb=$TMP/patchwarden_${version}_$arch.deb
agent_deb=$TMP/patchwarden-agent_${version}_$arch.deb
changes=$TMP/patchwarden_${version}_$arch.changes
[ -f "$srv_deb" ] && [ -f "$agent_deb" ] && [ -f "$changes" ] ||
  { bad "the packages are not there: $(ls "$TMP")"; test_done; }
ok "patchwarden and patchwarden-agent $version built"
# debian/rules configures with BUILD_TESTING=OFF: cmocka is not looked for,
# and the two binaries are all that is built.
obj=$(dpkg-architecture -q DEB_HOST_GNU_TYPE)
obj=$TMP/src/obj-$obj
check "the package build did not look for cmocka" eval '! grep -qi cmocka "$obj/CMakeCache.txt"'
built=$(find "$obj" -path "$obj/CMakeFiles" -prune -o -type f -perm -u+x -printf '%f\n' | sort |
  tr '\n' ' ')
check "the package build built the two binaries only: $built" \
  test "$built" = "patchwarden patchwarden-agent "

# ---- lintian ----------------------------------------------------------
# Every tag, down to info and pedantic, fails unless debian/*.lintian-overrides
# (debian/source/lintian-overrides) says why it does not apply. One tag is
# left out: spelling-error-in-binary reads every run of printable bytes in the
# binaries as words, machine code included (a release build had "wtH", taken
# for "with", in its instructions), so it changes with the code's layout and
# an override would be unused in the builds without such a run. The man
# pages' spelling is still checked (spelling-error-in-manpage).
lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
  --suppress-tags spelling-error-in-binary "$changes" \
  "$TMP/patchwarden_$version.dsc" >"$TMP/lintian.log" 2>&1
rc=$?
out=$(grep -v 'running with root privileges is not recommended' "$TMP/lintian.log")
check "lintian is clean (exit $rc): ${out:-no tags}" test "$rc" -eq 0 -a -z "$out"

# ---- what each package holds --------------------------------------------
contents() { dpkg-deb -c "$1" | awk '{print $1, $2, $6}'; }
contents "$srv_deb" >"$TMP/srv.list"
contents "$agent_deb" >"$TMP/agent.list"
has() { # LIST MODE OWNER PATH
  grep -qxF -e "$2 $3 .$4" "$1" || { bad "$(basename "$1" .list) lacks $2 $3 $4"; return; }
  ok
}
for f in /usr/bin/patchwarden /etc/patchwarden/patchwarden.conf /etc/patchwarden/sources.conf \
  /lib/systemd/system/patchwarden-server.service /lib/systemd/system/patchwarden-feed-sync.service \
  /lib/systemd/system/patchwarden-feed-sync.timer /usr/lib/sysusers.d/patchwarden.conf \
  /usr/lib/tmpfiles.d/patchwarden.conf /usr/share/bash-completion/completions/patchwarden \
  /usr/share/man/man1/patchwarden.1.gz /usr/share/man/man1/patchwarden-server.1.gz \
  /usr/share/man/man1/patchwarden-feed-sync.1.gz /usr/share/patchwarden/sample/SOURCES.md \
  /usr/share/doc/patchwarden/copyright; do
  mode=-rw-r--r--
  [ "$f" = /usr/bin/patchwarden ] && mode=-rwxr-xr-x
  has "$TMP/srv.list" "$mode" root/root "$f"
done
for f in /usr/bin/patchwarden-agent /lib/systemd/system/patchwarden-agent.service \
  /usr/lib/sysusers.d/patchwarden-agent.conf /usr/share/man/man1/patchwarden-agent.1.gz \
  /usr/share/bash-completion/completions/patchwarden-agent; do
  mode=-rw-r--r--
  [ "$f" = /usr/bin/patchwarden-agent ] && mode=-rwxr-xr-x
  has "$TMP/agent.list" "$mode" root/root "$f"
done
check "the agent's package has no server code: no /usr/bin/patchwarden" \
  eval '! grep -q " \./usr/bin/patchwarden$" "$TMP/agent.list"'
check "no file is in both packages" \
  test -z "$(comm -12 <(awk '$1 !~ /^d/ {print $3}' "$TMP/srv.list" | sort) \
    <(awk '$1 !~ /^d/ {print $3}' "$TMP/agent.list" | sort))"
check "the agent is not linked with libpq or libmicrohttpd" \
  eval '! dpkg-deb -f "$agent_deb" Depends | grep -q -e libpq -e libmicrohttpd'

# ---- install into a fresh Debian 12 -------------------------------------
R=$TMP/root
check "a fresh bookworm root" debroot_new "$R"
cp "$srv_deb" "$agent_deb" "$R/tmp/"
# in_root CMD...: CMD chrooted into R with its own /proc (gone with the
# mount namespace when CMD ends), as systemd-tmpfiles and systemd-analyze need.
in_root() {
  unshare --mount --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
    "$R" "$@"
}
# man-db too: systemd-analyze verify then checks each unit's Documentation=.
in_root apt-get update -qq >"$TMP/install.log" 2>&1 &&
  in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "/tmp/${srv_deb##*/}" "/tmp/${agent_deb##*/}" man-db >>"$TMP/install.log" 2>&1
rc=$?
check "apt installs both packages and their dependencies (exit $rc): $(tail -3 "$TMP/install.log")" \
  test "$rc" -eq 0
for p in patchwarden patchwarden-agent; do
  check "dpkg-query: $p $version installed" test \
    "$(chroot "$R" dpkg-query -W -f='${Status} ${Version}' "$p")" = "install ok installed $version"
done
check "the configuration files are conffiles" test "$(chroot "$R" dpkg-query -W \
  -f='${Conffiles}' patchwarden | awk 'NF {print $1}' | sort | tr '\n' ' ')" \
  = "/etc/patchwarden/patchwarden.conf /etc/patchwarden/sources.conf "
check "/etc/patchwarden/patchwarden.conf is dist/patchwarden.conf" \
  cmp -s "$R/etc/patchwarden/patchwarden.conf" "$PW_SOURCE_DIR/dist/patchwarden.conf"
check "/etc/patchwarden/sources.conf is dist/sources.conf" \
  cmp -s "$R/etc/patchwarden/sources.conf" "$PW_SOURCE_DIR/dist/sources.conf"
check "nothing was enabled at installation" \
  test -z "$(find "$R/etc/systemd/system" -name 'patchwarden*')"

# ---- the users and the state directory ------------------------------------
check_users() {
  check "$1: user patchwarden (home /var/lib/patchwarden, no shell)" test \
    "$(chroot "$R" getent passwd patchwarden | cut -d: -f6,7)" = /var/lib/patchwarden:/usr/sbin/nologin
  check "$1: user patchwarden-agent" test "$(chroot "$R" getent passwd patchwarden-agent |
    cut -d: -f6,7)" = /var/lib/patchwarden-agent:/usr/sbin/nologin
}
check_users "after installation (postinst)"
# (stat in the root: its users are not this machine's)
check "/var/lib/patchwarden: patchwarden:patchwarden 0750 (tmpfiles.d)" \
  test "$(chroot "$R" stat -c '%U:%G %a' /var/lib/patchwarden 2>&1)" = "patchwarden:patchwarden 750"
# The sysusers.d files alone make them: remove both, let systemd-sysusers
# (this machine's) read the root's /usr/lib/sysusers.d.
chroot "$R" userdel patchwarden && chroot "$R" userdel patchwarden-agent
check "the users are gone" eval '! chroot "$R" getent passwd patchwarden patchwarden-agent >/dev/null'
check "systemd-sysusers --root" eval 'systemd-sysusers --root="$R" >"$TMP/sysusers.log" 2>&1'
check_users "after systemd-sysusers --root"

# ---- the installed binaries ---------------------------------------------
out=$(chroot "$R" patchwarden --help 2>&1)
check "patchwarden --help" grep -q '^Commands:' <<<"$out"
check "patchwarden --version is $upstream" \
  test "$(chroot "$R" patchwarden --version 2>&1)" = "patchwarden $upstream"
out=$(chroot "$R" patchwarden-agent --help 2>&1)
check "patchwarden-agent --help: $out" grep -q 'patchwarden agent enroll' <<<"$out"
check "man patchwarden-server" eval 'chroot "$R" man -w patchwarden-server >/dev/null'

# The shipped configuration: no certificate, so refused, saying what to do.
out=$(chroot "$R" patchwarden server -n -c /etc/patchwarden/patchwarden.conf 2>&1)
rc=$?
check "server -n refuses the shipped configuration (exit 2, got $rc)" test "$rc" -eq 2
check "... because it has no TLS certificate: $out" grep -q 'no TLS certificate' <<<"$out"
check "... naming the keys to set" grep -q 'tls_cert.*tls_key.*allow_plain_http' <<<"$out"

# With a certificate and its key (mode 0600, the server's user's, as the
# server demands and the unit's comments say), the unit's own check passes,
# and the server runs as its user on its default database in the state
# directory.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$R/etc/patchwarden/key.pem" -out "$R/etc/patchwarden/cert.pem" -days 1 \
  -subj /CN=localhost >/dev/null 2>&1
chroot "$R" chown patchwarden: /etc/patchwarden/key.pem && chmod 0600 "$R/etc/patchwarden/key.pem"
tls=(--tls-cert /etc/patchwarden/cert.pem --tls-key /etc/patchwarden/key.pem)
out=$(chroot "$R" patchwarden server -n -c /etc/patchwarden/patchwarden.conf "${tls[@]}" 2>&1)
check "server -n with a certificate: $out" test $? -eq 0
# The README's first user, before the server ever ran: the tmpfiles.d entry
# made the state directory the user patchwarden's.
out=$(echo 'correct horse battery staple' | chroot "$R" runuser -u patchwarden -- \
  patchwarden user add admin --role admin --password-stdin 2>&1)
check "runuser -u patchwarden -- patchwarden user add admin: $out" test $? -eq 0
check "... created the database in /var/lib/patchwarden, the user patchwarden's" \
  test "$(chroot "$R" stat -c %U /var/lib/patchwarden/patchwarden.db 2>&1)" = patchwarden
chroot --userspec=patchwarden:patchwarden "$R" patchwarden server \
  -c /etc/patchwarden/patchwarden.conf "${tls[@]}" --listen 127.0.0.1:0 2>"$TMP/server.log" &
SRV_PID=$!
port() { sed -n 's/.*listening on https:\/\/[^ ]*:\([0-9]*\) .*/\1/p' "$TMP/server.log"; }
if test_wait_for 20 eval '[ -n "$(port)" ]'; then
  out=$(curl -sk "https://127.0.0.1:$(port)/api/v1/health/ready")
  check "the installed server is ready: $out" grep -q '"status":"ready"' <<<"$out"
  token=$(chroot "$R" runuser -u patchwarden -- patchwarden user token create admin --json |
    jq -r .token)
  code=$(curl -sk -o "$TMP/hosts.json" -w '%{http_code}' -H "Authorization: Bearer $token" \
    "https://127.0.0.1:$(port)/api/v1/hosts")
  check "the first user's API token works on the installed server (HTTP $code)" test "$code" = 200
else
  bad "the installed server did not start: $(cat "$TMP/server.log")"
fi
kill "$SRV_PID" && wait "$SRV_PID"
check "it stops on SIGTERM with exit 0" test $? -eq 0
SRV_PID=

# The sample data imports.
out=$(chroot "$R" patchwarden feed import --store /tmp/feeds.db /usr/share/patchwarden/sample/feeds 2>&1)
check "feed import of /usr/share/patchwarden/sample: $out" test $? -eq 0

# The feed sync service's command, as its user, with the shipped
# sources.conf: its two enabled sources (KEV, EPSS) pointed by
# patchwarden.conf, as sources.conf says to, at copies of the sample files
# served on loopback. Expected counts: jq and zcat on those files.
mkdir "$TMP/www"
cp "$PW_SOURCE_DIR"/share/sample/feeds/kev/*.json "$TMP/www/kev.json"
cp "$PW_SOURCE_DIR"/share/sample/feeds/epss/*.csv.gz "$TMP/www/epss.csv.gz"
kev=$(jq '.vulnerabilities | length' "$TMP/www/kev.json")
epss=$(zcat "$TMP/www/epss.csv.gz" | grep -c '^CVE-')
check "the sample files are served on loopback" aptrepo_serve "$TMP/www" 127.0.0.1 kev.json
printf '\n[source cisa-kev]\nurl = %skev.json\n\n[source epss]\nurl = %sepss.csv.gz\n' \
  "$APTREPO_URL" "$APTREPO_URL" >>"$R/etc/patchwarden/patchwarden.conf"
sync=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/patchwarden-feed-sync.service")
# (the unit's command line has no quotes: split on spaces as systemd would)
out=$(chroot --userspec=patchwarden:patchwarden "$R" $sync 2>&1)
check "the feed sync service's command ($sync) as patchwarden: $out" test $? -eq 0
out=$(chroot "$R" patchwarden feed status --json 2>&1)
check "its snapshot, in the server's database, holds $kev KEV and $epss EPSS entries: $out" \
  test "$(jq -r '"\(.kev) \(.epss)"' <<<"$out")" = "$kev $epss"

# ---- units and completion -------------------------------------------------
out=$(in_root systemd-analyze verify /lib/systemd/system/patchwarden-server.service \
  /lib/systemd/system/patchwarden-agent.service /lib/systemd/system/patchwarden-feed-sync.service \
  /lib/systemd/system/patchwarden-feed-sync.timer 2>&1)
rc=$?
check "systemd-analyze verify in the root (exit $rc): ${out:-clean}" test "$rc" -eq 0 -a -z "$out"
# The feed sync service is confined as the server is (server_dist.sh holds
# the server's unit to the same level).
level=$(in_root systemd-analyze security --offline=true \
  /lib/systemd/system/patchwarden-feed-sync.service 2>&1 |
  sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
check "feed sync's exposure level ${level:-?} is at most 2.0" \
  awk -v l="${level:-99}" 'BEGIN { exit !(l <= 2.0) }'
timer=$R/lib/systemd/system/patchwarden-feed-sync.timer
check "the timer runs feed sync daily" grep -qx 'OnCalendar=daily' "$timer"
check "... with a random delay" grep -q '^RandomizedDelaySec=[1-9]' "$timer"

complete_in_root() { # WORDS...: what bash completes for the last word
  in_root bash -c '. /usr/share/bash-completion/completions/$1; COMP_WORDS=("$@");
    COMP_CWORD=$(($# - 1)); _patchwarden; echo "${COMPREPLY[*]}"' x "$@"
}
check "completion: patchwarden fe -> feed" test "$(complete_in_root patchwarden fe)" = feed
check "completion: patchwarden feed sy -> sync" test "$(complete_in_root patchwarden feed sy)" = sync
check "completion: patchwarden-agent -> its subcommands" \
  test "$(complete_in_root patchwarden-agent '')" = "enroll run status exec"
check "completion: patchwarden server --listen" \
  grep -qw -- --listen <<<"$(complete_in_root patchwarden server --l)"

# ---- removal --------------------------------------------------------------
in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q patchwarden patchwarden-agent \
  >"$TMP/purge.log" 2>&1
check "apt purges both (exit $?)" test -z "$(chroot "$R" dpkg-query -W -f='${db:Status-Abbrev}' \
  patchwarden patchwarden-agent 2>/dev/null | tr -d ' n')"
check "purge removed the conffiles" test ! -e "$R/etc/patchwarden/sources.conf"

test_done
