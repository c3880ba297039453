#!/usr/bin/env bash
# Differential test: random version pairs compared by `patchwarden vercmp
# --batch` and by the real tools, every pair checked:
#   deb: dpkg --compare-versions (one process per pair, two loops in
#        parallel); where we print <, = or >, dpkg must say the relation
#        holds (exit 0); where we print "! reason", dpkg must refuse (exit 2).
#   rpm: rpm's Lua rpm.vercmp(), one `rpm --eval` per chunk of pairs.
# PW_SEED replays a run, PW_PAIRS sets the number of pairs (default 100000).
set -euo pipefail

bin=${PW_BIN:?PW_BIN must name the patchwarden binary}
src=${PW_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
seed=${PW_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
pairs=${PW_PAIRS:-100000}
chunk=20000
export LC_ALL=C
. "$(dirname "$0")/lib/test-lib.sh"
test_require_cmd dpkg dpkg-query rpm python3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
echo "vercmp_differential: seed $seed (replay with PW_SEED=$seed), $pairs pairs"
python3 "$src/tests/tools/gen_versions.py" "$seed" "$pairs" >"$work/pairs"

# ---- deb against dpkg ----------------------------------------------------
"$bin" vercmp --scheme deb --batch <"$work/pairs" >"$work/deb.out"
[ "$(wc -l <"$work/deb.out")" -eq "$pairs" ] || { bad "deb: wrong number of result lines"; test_done; }
paste -d' ' "$work/pairs" "$work/deb.out" >"$work/deb.joined"
split -n l/2 "$work/deb.joined" "$work/deb.part."

check_dpkg() { # input: lines "A B RESULT [reason...]"; output: one line per disagreement
	local a b want rest op rc
	while read -r a b want rest; do
		case $want in
		'<') op=lt ;; '=') op=eq ;; '>') op=gt ;; *) op=eq ;;
		esac
		rc=0
		dpkg --compare-versions -- "$a" "$op" "$b" 2>/dev/null || rc=$?
		if [ "$want" = '!' ]; then
			[ "$rc" = 2 ] || printf 'deb: we refuse, dpkg accepts (%s exits %s): %s %s (%s)\n' "$op" "$rc" "$a" "$b" "$rest"
		elif [ "$rc" != 0 ]; then
			printf 'deb: we say %s, dpkg --compare-versions %s exits %s: %s %s\n' "$want" "$op" "$rc" "$a" "$b"
		fi
	done
}
for part in "$work"/deb.part.*; do
	check_dpkg <"$part" >"$part.bad" &
done
wait
cat "$work"/deb.part.*.bad >"$work/deb.bad"
deb_bad=$(wc -l <"$work/deb.bad")
deb_refused=$(grep -c '^!' "$work/deb.out" || true)
echo "deb: $pairs pairs, $((pairs - deb_bad)) agreed with dpkg $(dpkg-query -W -f='${Version}' dpkg), $deb_refused refused by both, $deb_bad disagreements"
if [ "$deb_bad" -eq 0 ]; then
	ok "deb agrees with dpkg"
else
	bad "deb: $deb_bad disagreements with dpkg"
	head -20 "$work/deb.bad"
fi

# ---- rpm against rpm.vercmp ----------------------------------------------
"$bin" vercmp --scheme rpm --batch <"$work/pairs" >"$work/rpm.out"
[ "$(wc -l <"$work/rpm.out")" -eq "$pairs" ] || { bad "rpm: wrong number of result lines"; test_done; }
paste -d' ' "$work/pairs" "$work/rpm.out" | split -l "$chunk" - "$work/rpm.part."
cat >"$work/check.lua" <<'EOF'
-- Compares each "A B RESULT" line with rpm.vercmp(A, B); a refusal shows
-- as a Lua error. Prints disagreements, then "OK n agreed refused".
local agreed, refused, out = 0, 0, {}
for line in io.lines(os.getenv("PW_RPM_CHUNK")) do
	local a, b, want = line:match("^([^ \t]+)[ \t]+([^ \t]+)[ \t]+(.*)$")
	local ok, r = pcall(rpm.vercmp, a, b)
	local got = not ok and "!" or (r < 0 and "<" or (r > 0 and ">" or "="))
	if got == want:sub(1, 1) then
		agreed = agreed + 1
		if got == "!" then refused = refused + 1 end
	else
		out[#out + 1] = "rpm: we say " .. want .. ", rpm.vercmp says " .. got .. ": " .. a .. " " .. b
	end
end
out[#out + 1] = "OK " .. agreed .. " " .. refused
print(table.concat(out, "\n") .. "\n")
EOF
rpm_agreed=0 rpm_refused=0 rpm_bad=0
for part in "$work"/rpm.part.*; do
	PW_RPM_CHUNK=$part rpm --eval "%{lua: dofile('$work/check.lua')}" >"$part.res"
	read -r _ n r < <(grep '^OK ' "$part.res") || {
		bad "rpm: no result for $part"; cat "$part.res"; test_done
	}
	rpm_agreed=$((rpm_agreed + n))
	rpm_refused=$((rpm_refused + r))
	grep '^rpm: ' "$part.res" >>"$work/rpm.bad" || true
done
touch "$work/rpm.bad"
rpm_bad=$(wc -l <"$work/rpm.bad")
echo "rpm: $pairs pairs, $rpm_agreed agreed with rpm.vercmp ($(rpm --version)), $rpm_refused refused by both, $rpm_bad disagreements"
if [ "$rpm_bad" -eq 0 ] && [ "$rpm_agreed" -eq "$pairs" ]; then
	ok "rpm agrees with rpm.vercmp"
else
	bad "rpm: $rpm_bad disagreements with rpm.vercmp, $rpm_agreed of $pairs agreed"
	head -20 "$work/rpm.bad"
fi

echo "vercmp_differential: seed $seed, $(($(date +%s) - start)) s"
test_done
