#!/usr/bin/env bash
# What dist/ ships for the server: the example configuration checks with
# `patchwarden server -n` (refused without a certificate, as shipped;
# accepted once tls_cert/tls_key are given), and the systemd unit parses
# and is hardened (systemd-analyze; without it those checks are a skip).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
: "${PW_SOURCE_DIR:?}"
T=$PW_SRV_TMP
conf=$PW_SOURCE_DIR/dist/patchwarden.conf
unit=$PW_SOURCE_DIR/dist/patchwarden-server.service

out=$("$PW_BIN" server -n -c "$conf" 2>&1)
check "the example config is refused without a certificate (exit 2): $out" test $? -eq 2
check "because of the certificate" grep -q "no TLS certificate" <<<"$out"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$T/key.pem" \
  -out "$T/cert.pem" -days 1 -subj "/CN=patchwarden" >/dev/null 2>&1
out=$("$PW_BIN" server -n -c "$conf" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" 2>&1)
check "the example config with a certificate checks: $out" test $? -eq 0
# Uncommenting every key (its default) changes nothing.
sed 's/^#\([a-z_]* =\)/\1/' "$conf" >"$T/uncommented.conf"
out=$("$PW_BIN" server -n -c "$T/uncommented.conf" --tls-cert "$T/cert.pem" --tls-key "$T/key.pem" 2>&1)
check "every documented key is accepted with its default: $out" test $? -eq 0

if test_have cmd systemd-analyze; then
  cp "$unit" "$T/patchwarden-server.service"
  # The binary and the man page are not installed here; anything else is a fault.
  out=$(systemd-analyze verify "$T/patchwarden-server.service" 2>&1 |
    grep -v -e '/usr/bin/patchwarden is not executable' -e "man patchwarden-server(1)")
  check "systemd-analyze verify: ${out:-clean}" test -z "$out"
  level=$(systemd-analyze security --offline=true "$T/patchwarden-server.service" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  check "systemd exposure level ${level:-?} is at most 2.0" \
    python3 -c "import sys; sys.exit(0 if float('${level:-99}') <= 2.0 else 1)"
else
  test_skip_part "systemd unit checks" "systemd-analyze is not installed (systemd, scripts/deps)"
fi
pw_srv_summary
