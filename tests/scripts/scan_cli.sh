#!/usr/bin/env bash
# `patchwarden scan` as an operator meets it: options, exit codes, text and
# JSON output, bad input, a scan of a system under --root, and a scan of
# this live host (running processes, binNMU source versions).
set -uo pipefail
: "${PW_BIN:?}"
. "$(dirname "$0")/lib/test-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect RC DESCRIPTION -- COMMAND...: runs it, output in $tmp/out, $tmp/err.
expect() {
	local want=$1 what=$2
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq "$want" ]; then ok; else bad "$what: exit $rc, expected $want"; cat "$tmp/err"; fi
}
contains() { # FILE TEXT DESCRIPTION
	if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1:"; head -20 "$1"; fi
}
json() { # EXPRESSION over the JSON in $tmp/out, printed
	python3 -c "import json,sys; r=json.load(open('$tmp/out')); print($1)"
}

# A small feed: the format of the Debian tracker's DSA list, with a
# bookworm section so that this (Debian 12) machine can be scanned live.
cat >"$tmp/list" <<'EOF'
[01 Mar 2023] DSA-9001-1 bash - security update
	{CVE-2099-0001}
	[bookworm] - bash 5.2.15-2+deb12u1
	[bullseye] - bash 5.1-2+deb11u1
[02 Mar 2023] DSA-9002-1 less - security update
	{CVE-2099-0002}
	[bookworm] - less 590-2.1~deb12u3
	[bullseye] - less 551-2+deb11u1
[03 Mar 2023] DSA-9003-1 curl - security update
	{CVE-2021-22205 CVE-2099-0003}
	[bullseye] - curl 7.74.0-1.3+deb11u9
EOF
printf 'CVE-2099-0002;0.500000000;0.990000000\n' >"$tmp/epss.csv"
store=$tmp/store.db
expect 0 "feed import" -- "$PW_BIN" feed import --store "$store" --quiet "$tmp/list" "$PW_TEST_DATA/kev/cve-2021-22205.json" "$tmp/epss.csv"

inv() { # FILE ID VERSION_ID then "name version source source_version" lines on stdin
	python3 -c "$inv_py" "$@"
}
inv_py=$(cat <<'EOF'
import json, sys
pk = []
for line in sys.stdin:
    n, v, s, sv = line.split()
    pk.append({"name": n, "version": v, "arch": "amd64", "source": s, "source_version": sv,
               "status": "install ok installed"})
json.dump({"os": {"id": sys.argv[2], "version_id": sys.argv[3], "codename": None,
                  "pretty_name": "test host"}, "arch": "amd64", "scheme": "deb",
           "kernel": {"running": None, "installed": [], "needs_reboot": False},
           "packages": pk, "warnings": []}, open(sys.argv[1], "w"))
EOF
)
inv "$tmp/bullseye.json" debian 11 <<'EOF'
bash 5.1-2+b3 bash 5.1-2
less 551-2 less 551-2
curl 7.74.0-1.3+deb11u7 curl 7.74.0-1.3+deb11u7
libcurl4 7.74.0-1.3+deb11u7 curl 7.74.0-1.3+deb11u7
EOF

# ---- usage ----
expect 0 "--help" -- "$PW_BIN" scan --help
contains "$tmp/out" "usage: patchwarden scan" "--help"
expect 2 "unknown option" -- "$PW_BIN" scan --frobnicate
contains "$tmp/err" "unknown option '--frobnicate'" "unknown option"
expect 2 "--root and --inventory" -- "$PW_BIN" scan --root / --inventory "$tmp/bullseye.json"
expect 2 "--store without value" -- "$PW_BIN" scan --store
expect 2 "bad --snapshot" -- "$PW_BIN" scan --snapshot x --store "$store" --inventory "$tmp/bullseye.json"
expect 2 "bad --fail-on" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --fail-on urgent
contains "$tmp/err" "urgent" "bad --fail-on"
expect 2 "bad --exposure" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --exposure dmz

# ---- a scan, as text ----
expect 0 "text scan" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json"
contains "$tmp/out" "Summary: 1 emergency, 0 high, 2 normal, 0 low; 0 unfixed; 0 inactive (debian:11, snapshot 1)" "summary line"
# One row per package upgrade: binNMU bash 5.1-2+b3 is compared as its
# source version 5.1-2; curl is the source of curl and libcurl4.
contains "$tmp/out" "5.1-2 → 5.1-2+deb11u1" "source version of a binNMU"
contains "$tmp/out" "curl (curl, libcurl4)" "source with its binaries"
contains "$tmp/out" "KEV 2021-11-17" "KEV due date of an upgrade"
expect 0 "text scan by advisory" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --by advisory
contains "$tmp/out" "CVE-2021-22205 is in CISA KEV (due 2021-11-17)" "KEV reason"
if grep -qE '^normal +bash +5\.1-2 +5\.1-2\+deb11u1 ' "$tmp/out"; then ok; else bad "binNMU row by advisory"; fi
expect 2 "bad --by" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --by host
contains "$tmp/err" "--by takes upgrade or advisory, not 'host'" "bad --by"

# ---- exit codes ----
expect 1 "--fail-on emergency" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --fail-on emergency
expect 1 "--fail-on low" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --fail-on low
inv "$tmp/clean.json" debian 11 <<'EOF'
less 551-2+deb11u1 less 551-2+deb11u1
EOF
expect 0 "--fail-on with nothing missing" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/clean.json" --fail-on low
contains "$tmp/out" "Summary: 0 emergency, 0 high, 0 normal, 0 low" "clean host"

# ---- JSON ----
expect 0 "--json" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --json
[ "$(json 'sorted(r.keys())')" = "['findings', 'host', 'inactive', 'policy', 'snapshot', 'summary', 'unfixed', 'warnings']" ] && ok || bad "JSON keys: $(json 'sorted(r.keys())')"
[ "$(json 'r["host"]["ecosystem"], r["snapshot"], r["summary"]["findings"]')" = "debian:11 1 3" ] && ok || bad "JSON host/snapshot/summary: $(json 'r["host"]["ecosystem"], r["snapshot"], r["summary"]["findings"]')"
[ "$(json '[(f["package"], f["priority"], len(f["binaries"])) for f in r["findings"]][0]')" = "('curl', 'emergency', 2)" ] && ok || bad "JSON first finding: $(json 'r["findings"][0]')"
[ "$(json 'r["findings"][0]["kev"]["due_date"]')" = "2021-11-17" ] && ok || bad "JSON KEV due date"

# ---- exposure and configuration ----
expect 0 "internet exposure" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --exposure internet --json
[ "$(json '[f["priority"] for f in r["findings"] if f["package"] == "less"][0]')" = "emergency" ] && ok || bad "EPSS on an internet host"
printf '[policy]\nepss_threshold = 0.9\nsla_normal = 21\n[scan]\nexposure = internet\n' >"$tmp/pw.conf"
expect 0 "--config" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --config "$tmp/pw.conf" --json
[ "$(json '[(f["priority"], f["sla_days"]) for f in r["findings"] if f["package"] == "less"][0]')" = "('normal', 21)" ] && ok || bad "config threshold and SLA"
printf '[policy]\nepss_threshold = lots\n' >"$tmp/bad.conf"
expect 2 "bad config value" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --config "$tmp/bad.conf"
expect 2 "missing --config file" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/bullseye.json" --config "$tmp/none.conf"

# ---- snapshots ----
expect 0 "second import" -- "$PW_BIN" feed import --store "$store" --quiet "$tmp/epss.csv"
expect 0 "--snapshot 1" -- "$PW_BIN" scan --store "$store" --snapshot 1 --inventory "$tmp/bullseye.json" --json
[ "$(json 'r["snapshot"]')" = "1" ] && ok || bad "snapshot 1 reported"
expect 2 "--snapshot that does not exist" -- "$PW_BIN" scan --store "$store" --snapshot 99 --inventory "$tmp/bullseye.json"

# ---- bad input ----
expect 2 "no store" -- "$PW_BIN" scan --store "$tmp/nope.db" --inventory "$tmp/bullseye.json"
contains "$tmp/err" "no feed store there" "no store"
[ ! -e "$tmp/nope.db" ] && ok || bad "a missing store was created"
head -c 300 "$tmp/bullseye.json" >"$tmp/truncated.json"
expect 2 "truncated inventory" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/truncated.json"
contains "$tmp/err" "not valid JSON" "truncated inventory"
echo '{"os":{"id":"debian","version_id":"11"},"scheme":"deb","packages":"many"}' >"$tmp/types.json"
expect 2 "wrong types" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/types.json"
contains "$tmp/err" "packages" "wrong types"
expect 2 "missing inventory file" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/none.json"
inv "$tmp/plan9.json" plan9 4 <<'EOF'
rc 1 rc 1
EOF
expect 2 "OS without advisories" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/plan9.json"
contains "$tmp/err" "no advisories for plan9:4" "OS without advisories"
inv "$tmp/jammy.json" ubuntu 22.04 <<'EOF'
bash 5.1-6ubuntu1 bash 5.1-6ubuntu1
EOF
expect 2 "release without advisories" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/jammy.json"
contains "$tmp/err" "ubuntu:22.04" "release without advisories"
inv "$tmp/badver.json" debian 11 <<'EOF'
bash 5.1:2 bash 5.1:2
less 551-2 less 551-2
EOF
expect 0 "invalid installed version" -- "$PW_BIN" scan --store "$store" --inventory "$tmp/badver.json"
contains "$tmp/err" "package bash skipped" "invalid installed version warns"
contains "$tmp/out" "DSA-9002-1" "the other packages are still scanned"

# ---- a system under --root ----
root=$tmp/root
mkdir -p "$root/etc" "$root/var/lib/dpkg"
printf 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\nPRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\n' >"$root/etc/os-release"
cat >"$root/var/lib/dpkg/status" <<'EOF'
Package: libcurl4
Status: install ok installed
Architecture: amd64
Source: curl
Version: 7.74.0-1.3+deb11u7

Package: bash
Status: install ok installed
Architecture: amd64
Source: bash (5.1-2)
Version: 5.1-2+b3
EOF
expect 0 "--root" -- "$PW_BIN" scan --store "$store" --root "$root" --json
[ "$(json 'sorted((f["package"], f["installed"]) for f in r["findings"])')" = "[('bash', '5.1-2'), ('curl', '7.74.0-1.3+deb11u7')]" ] && ok || bad "--root findings: $(json 'r["findings"]')"
[ "$(json 'r["host"]["in_use_known"], r["summary"]["inactive"]')" = "False 0" ] && ok || bad "--root must not look at this host's processes: $(json 'r["host"]["in_use_known"], r["summary"]["inactive"]')"

# ---- this live host ----
if test_have debian12; then
	expect 0 "live scan" -- "$PW_BIN" scan --store "$store" --json
	[ "$(json 'r["host"]["ecosystem"]')" = "debian:12" ] && ok || bad "live ecosystem"
	# bash here is a binNMU (5.2.15-2+bN): compared as source version 5.2.15-2.
	[ "$(json '[f["installed"] for f in r["findings"] if f["package"] == "bash"]')" = "['5.2.15-2']" ] && ok || bad "live bash: $(json 'r["findings"]')"
	# The shell running this test maps bash's files: bash is in use.
	if [ "$(id -u)" = 0 ]; then
		[ "$(json '[f["in_use"] for f in r["findings"] if f["package"] == "bash"]')" = "[True]" ] && ok || bad "bash in use: $(json '[(f["package"], f["in_use"]) for f in r["findings"]]')"
	else
		test_skip_part "live scan: bash in use" "needs root to read other processes' maps"
	fi
	expect 0 "live scan, text" -- "$PW_BIN" scan --store "$store"
	contains "$tmp/out" "Summary:" "live text"
else
	test_skip_part "live scan" "needs a Debian 12 host"
fi

test_done
