#!/usr/bin/env bash
# -q/--quiet and -v/--verbose, output options of every command (the one
# option parser, src/cli.c): every command's help lists both (and
# --color); --quiet leaves only results and errors (standard output
# unchanged, nothing on standard error but errors), --verbose says what
# was used (configuration, database, store, snapshot) and how long it
# took; both at once, or a bad --color, are usage errors; before the
# command ("patchwarden -q scan") they work the same.
set -uo pipefail
: "${PW_BIN:?}"
agent=${PW_AGENT_BIN:?PW_AGENT_BIN is not set; run under ctest}
data=${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}
. "$(dirname "$0")/lib/test-lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
unset PATCHWARDEN_DB PATCHWARDEN_STORE COLUMNS

# run WANT CMD...: stdout in $tmp/out, stderr in $tmp/err.
run() {
  local want=$1
  shift
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$*: exit $got, expected $want: $(head -3 "$tmp/err")"; fi
}
has() { # FILE TEXT WHAT
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: no '$2' in: $(head -5 "$1")"; fi
}
empty() { # FILE WHAT
  if [ ! -s "$1" ]; then ok; else bad "$2: not empty: $(head -3 "$1")"; fi
}

# ---- every command's help ----------------------------------------------------
cmds=$("$PW_BIN" --help | awk '/^Commands:/{c=1; next} c && /^  [a-z]/{print $1}')
n=0
for c in $cmds; do
  [ "$c" = help ] && continue # takes a command name, no options
  n=$((n + 1))
  run 0 "$PW_BIN" "$c" --help
  has "$tmp/out" "  -q, --quiet " "$c --help"
  has "$tmp/out" "  -v, --verbose " "$c --help"
  has "$tmp/out" "  --color WHEN " "$c --help"
done
if [ "$n" -ge 11 ]; then ok; else bad "only $n commands in 'patchwarden --help'"; fi
run 0 "$agent" --help
has "$tmp/out" "  -q, --quiet " "patchwarden-agent --help"
has "$tmp/out" "  -v, --verbose " "patchwarden-agent --help"

# ---- the man pages: one OUTPUT OPTIONS section, the same in each ---------------
src=${PW_SOURCE_DIR:?PW_SOURCE_DIR is not set; run under ctest}
section() { awk '/^\.SH OUTPUT OPTIONS/{s=1} s && /^\.SH / && !/OUTPUT OPTIONS/{exit} s' "$1"; }
section "$src/docs/man/patchwarden-scan.1" >"$tmp/section"
if grep -q 'verbose' "$tmp/section"; then ok; else bad "no OUTPUT OPTIONS in patchwarden-scan(1)"; fi
for page in "$src"/docs/man/*.1; do
  section "$page" >"$tmp/this"
  check "OUTPUT OPTIONS of $(basename "$page")" cmp -s "$tmp/this" "$tmp/section"
done

# ---- usage errors ------------------------------------------------------------
run 2 "$PW_BIN" vercmp -q -v 1 2
has "$tmp/err" "give --quiet or --verbose, not both" "-q -v"
run 2 "$PW_BIN" -q vercmp --verbose 1 2
has "$tmp/err" "give --quiet or --verbose, not both" "-q before, --verbose after"
run 2 "$PW_BIN" --color=maybe vercmp 1 2
has "$tmp/err" "--color takes auto, always or never, not 'maybe'" "--color before"
run 2 "$PW_BIN" vercmp --color maybe 1 2
has "$tmp/err" "--color takes auto, always or never, not 'maybe'" "--color after"
run 0 "$PW_BIN" --color never -q vercmp -s deb 1 2
has "$tmp/out" "<" "--color WHEN -q before the command"

# ---- vercmp: a warning, only without --quiet -----------------------------------
run 0 "$PW_BIN" vercmp --scheme deb abc 1
has "$tmp/err" "warning: version 'abc' has bad syntax" "vercmp warning"
cp "$tmp/out" "$tmp/plain"
for q in -q --quiet; do
  run 0 "$PW_BIN" vercmp "$q" --scheme deb abc 1
  empty "$tmp/err" "vercmp $q: standard error"
  check "vercmp $q: same result" cmp -s "$tmp/out" "$tmp/plain"
done
run 0 "$PW_BIN" -q vercmp --scheme deb abc 1
empty "$tmp/err" "patchwarden -q vercmp"

# ---- feed import and scan ------------------------------------------------------
cat >"$tmp/list" <<'EOF'
[01 Mar 2023] DSA-9001-1 bash - security update
	{CVE-2099-0001}
	[bullseye] - bash 5.1-2+deb11u1
EOF
store=$tmp/store.db
run 0 "$PW_BIN" feed import --quiet --store "$store" "$tmp/list"
empty "$tmp/out" "feed import --quiet: standard output"
empty "$tmp/err" "feed import --quiet: standard error"
run 0 "$PW_BIN" feed import -v --store "$store" "$tmp/list"
has "$tmp/err" "patchwarden feed import: feed store $store" "feed import -v"
has "$tmp/out" "snapshot 2:" "feed import -v: its summary"
# An inventory with a warning of its own: a note scan passes on.
cat >"$tmp/inv.json" <<'EOF'
{"os": {"id": "debian", "version_id": "11", "codename": null, "pretty_name": "test"},
 "arch": "amd64", "scheme": "deb",
 "kernel": {"running": null, "installed": [], "needs_reboot": false},
 "packages": [{"name": "bash", "version": "5.1-2", "arch": "amd64", "source": "bash",
               "source_version": "5.1-2", "status": "install ok installed"}],
 "warnings": ["something odd in the status file"]}
EOF
scan=(scan --store "$store" --inventory "$tmp/inv.json" --snapshot 1)
run 0 "$PW_BIN" "${scan[@]}"
has "$tmp/err" "patchwarden scan: warning: something odd in the status file" "scan warning"
cp "$tmp/out" "$tmp/plain"
run 0 "$PW_BIN" "${scan[@]}" -q
empty "$tmp/err" "scan -q: standard error"
check "scan -q: the same report" cmp -s "$tmp/out" "$tmp/plain"
for v in "$PW_BIN -v scan" "$PW_BIN scan --verbose"; do
  run 0 $v "${scan[@]:1}"
  has "$tmp/err" "patchwarden scan: configuration /etc/patchwarden/patchwarden.conf" "$v"
  has "$tmp/err" "feed store $store, snapshot 1" "$v"
  has "$tmp/err" "patchwarden scan: scanned in " "$v"
  has "$tmp/err" "1 package upgrades fix the 1 findings" "$v"
  has "$tmp/err" "patchwarden scan: exit status 0 after " "$v"
  has "$tmp/err" "warning: something odd" "$v: warnings too"
  check "$v: the same report" cmp -s "$tmp/out" "$tmp/plain"
done
# Errors stay with --quiet.
run 2 "$PW_BIN" scan -q --store "$tmp/none.db" --inventory "$tmp/inv.json"
has "$tmp/err" "no feed store there" "scan -q: the error"

# ---- server-database commands ---------------------------------------------------
db=$tmp/server.db
run 0 "$PW_BIN" host import-csv "$data/hosts/fleet.csv" --db "$db"
run 0 "$PW_BIN" host list --db "$db"
cp "$tmp/out" "$tmp/plain"
run 0 "$PW_BIN" host list --db "$db" --verbose
has "$tmp/err" "patchwarden host: database $db (SQLite), opened in " "host list --verbose"
has "$tmp/err" "patchwarden host: exit status 0 after " "host list --verbose"
check "host list --verbose: the same list" cmp -s "$tmp/out" "$tmp/plain"
run 0 "$PW_BIN" -q host list --db "$db"
empty "$tmp/err" "host list -q"
run 0 "$PW_BIN" user add alice --role admin --no-password --db "$db"
run 0 "$PW_BIN" user token create alice --db "$db"
has "$tmp/err" "shown only now" "token create: its note"
run 0 "$PW_BIN" user token create alice --db "$db" -q
empty "$tmp/err" "token create -q"
if grep -q '^pwt_' "$tmp/out"; then ok; else bad "token create -q: no token"; fi
run 0 "$PW_BIN" summary -v --db "$db" --json
has "$tmp/err" "patchwarden summary: database $db (SQLite)" "summary -v"
run 0 "$PW_BIN" findings -v --db "$db"
has "$tmp/err" "patchwarden findings: exit status 0 after " "findings -v"
run 0 "$PW_BIN" audit verify -q --db "$db"
empty "$tmp/err" "audit verify -q"

test_done
