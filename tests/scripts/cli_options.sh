#!/usr/bin/env bash
# The one option parser and the shared set-up of every subcommand
# (src/parse_options.c, the set-up flags in src/main.c): every command's
# help lists its options; --opt=value, --opt value, short options, "--"
# and "-" for standard input; the parser's error messages; --db, then
# $PATCHWARDEN_DB; the database is opened only when a command runs.
set -uo pipefail
bin=${PW_BIN:?PW_BIN (the patchwarden binary) is not set; run under ctest}
agent=${PW_AGENT_BIN:?PW_AGENT_BIN is not set; run under ctest}
data=${PW_TEST_DATA:?PW_TEST_DATA is not set; run under ctest}
tmp=$(mktemp -d /tmp/pw-cli-options.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
unset PATCHWARDEN_DB PATCHWARDEN_STORE
db="$tmp/server.db"

. "$(dirname "$0")/lib/test-lib.sh"

# run NAME EXPECTED_STATUS CMD...: stdout in $out, stderr in $errout.
run() {
  local name=$1 want=$2
  shift 2
  out=$("$@" 2>"$tmp/stderr")
  local got=$?
  errout=$(cat "$tmp/stderr")
  if [ "$got" -eq "$want" ]; then ok; else bad "$name: exit $got, expected $want; output: $out $errout"; fi
}
has() { # has NAME TEXT: stdout or stderr contains TEXT
  if grep -qF -- "$2" <<<"$out$errout"; then ok; else bad "$1: no '$2' in: $out $errout"; fi
}

# ---- usage texts: every command, generated option lists --------------------
for c in agent audit feed host inventory scan server user vercmp; do
  run "help $c" 0 "$bin" help "$c"
  has "help $c" "usage: patchwarden $c"
  help=$out
  run "$c --help" 0 "$bin" "$c" --help
  if [ "$out" = "$help" ]; then ok; else bad "$c --help differs from help $c"; fi
done
run "agent --help" 0 "$agent" --help
has "agent --help" "  -c, --config FILE   configuration file, which must exist (default"
has "agent --help" "  --timeout SEC       time limit per request (default 60)"
run "host help" 0 "$bin" help host
has "host help" "  --stale DAYS        not seen by its agent for DAYS days, or never"
has "host help" "  --db URL            server database: sqlite:PATH, PATH or postgresql://..."
run "server help" 0 "$bin" help server
has "server help" "  -n, --check         check the configuration and the TLS files"
run "feed help" 0 "$bin" help feed
has "feed help" "  --source NAME       sync only source NAME (repeatable)"
has "feed help" "  -k, --key KEY"

# ---- the forms of an option ---------------------------------------------------
run "import-csv from -" 0 "$bin" host import-csv - --db "$db" <"$data/hosts/fleet.csv"
has "import-csv from -" "imported -:"
run "--db=URL" 0 "$bin" host list --db="$db" --json
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")
if [ "$n" -gt 1 ]; then ok; else bad "--db=URL: $n hosts"; fi
run "--db URL" 0 "$bin" host list --json --db "$db"
run "--opt=value int" 0 "$bin" audit list --limit=1 --json --db "$db"
n=$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)))' <<<"$out")
if [ "$n" -eq 1 ]; then ok; else bad "--limit=1: $n events"; fi
run "-sVALUE" 0 "$bin" vercmp -sdeb 1.0 2.0
has "-sVALUE" "<"
run "-s VALUE" 0 "$bin" vercmp 1.0 -s rpm 1.0
has "-s VALUE" "="
run "-- ends options" 0 "$bin" vercmp --scheme deb -- 1.0 --batch
has "-- ends options" "version '--batch' has bad syntax"
echo 'not json' >"$tmp/inv"
run "--inventory -" 2 "$bin" scan --inventory - --store "$tmp/none.db" <"$tmp/inv"
has "--inventory -" "-: not valid JSON"

# ---- errors -----------------------------------------------------------------
run "unknown long" 2 "$bin" host list --foo --db "$db"
has "unknown long" "patchwarden host: unknown option '--foo'"
has "unknown long" "Run 'patchwarden help host' for usage."
run "unknown short" 2 "$bin" server -x
has "unknown short" "patchwarden server: unknown option '-x'"
run "needs a number" 2 "$bin" audit list --db "$db" --limit
has "needs a number" "patchwarden audit: option '--limit' needs a number"
run "not a number" 2 "$bin" audit list --limit ten --db "$db"
has "not a number" "option '--limit' needs a number of at least 1, not 'ten'"
run "out of range" 2 "$bin" agent status --timeout 4000
has "out of range" "option '--timeout' needs a number from 1 to 3600, not '4000'"
run "needs a value" 2 "$bin" user list --db
has "needs a value" "patchwarden user: option '--db' needs a value (URL)"
run "empty value" 2 "$bin" inventory --root=
has "empty value" "option '--root' needs a non-empty value"
run "flag with value" 2 "$bin" feed status --json=yes
has "flag with value" "option '--json' takes no value"
run "not this subcommand" 2 "$bin" audit verify --after 3 --db "$db"
has "not this subcommand" "unexpected option '--after' here"
run "not this feed subcommand" 2 "$bin" feed snapshots --replace
has "not this feed subcommand" "unexpected option '--replace' here"
run "sync takes -c" 2 "$bin" feed sync -c "$tmp/missing.conf"
has "sync takes -c" "missing.conf"
run "import takes no --config" 2 "$bin" feed import --config "$tmp/x.conf" x
has "import takes no --config" "unknown option '--config'"

# ---- set-up: --db, then $PATCHWARDEN_DB; opened only when needed ------------
run "PATCHWARDEN_DB" 0 env PATCHWARDEN_DB="$db" "$bin" audit verify
has "PATCHWARDEN_DB" "audit log intact"
run "--db wins" 0 env PATCHWARDEN_DB="$tmp/other.db" "$bin" audit verify --db "$db"
if [ ! -e "$tmp/other.db" ]; then ok; else bad "--db did not win over PATCHWARDEN_DB"; fi
run "usage error opens nothing" 2 "$bin" user add --db "$tmp/new.db"
if [ ! -e "$tmp/new.db" ]; then ok; else bad "a usage error created the database"; fi
run "a missing --config" 2 "$bin" scan -c "$tmp/missing.conf" --inventory "$tmp/inv"
has "a missing --config" "missing.conf"

# ---- reading commands never create a database ----------------------------
# (issue 16: a read in the wrong directory made an empty ./patchwarden.db
# and reported "audit log intact: 0 events")
for c in "audit verify" "audit list" "host list" "findings" "summary" "user list"; do
  # shellcheck disable=SC2086
  run "$c, no database" 2 "$bin" $c --db "$tmp/absent.db"
  has "$c, no database" "$tmp/absent.db: no database there"
  has "$c, no database" "given by --db"
  if [ ! -e "$tmp/absent.db" ]; then ok; else bad "$c created $tmp/absent.db"; fi
done
run "no database, env" 2 env PATCHWARDEN_DB="$tmp/absent.db" "$bin" audit verify
has "no database, env" "given by \$PATCHWARDEN_DB"
printf '[server]\ndb = %s\n' "$tmp/absent.db" >"$tmp/db.conf"
run "no database, config" 2 "$bin" host list -c "$tmp/db.conf"
has "no database, config" "given by db in [server] of $tmp/db.conf"
(cd "$tmp" && "$bin" audit verify >/dev/null 2>"$tmp/stderr")
if [ $? -eq 2 ] && grep -qF "/var/lib/patchwarden/patchwarden.db" "$tmp/stderr" ||
  [ -e /var/lib/patchwarden/patchwarden.db ]; then ok; else bad "default path: $(cat "$tmp/stderr")"; fi
if [ ! -e "$tmp/patchwarden.db" ]; then ok; else bad "a read created ./patchwarden.db"; fi
run "user add creates" 0 "$bin" user add first --role admin --no-password --db "$tmp/absent.db"
run "then it reads" 0 "$bin" audit verify --db "$tmp/absent.db"
has "then it reads" "audit log intact"

test_done
