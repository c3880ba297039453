#!/usr/bin/env bash
# HTTPS with a self-signed certificate made by `openssl req` for
# 127.0.0.1: the -n check of certificate files, a TLS server on
# 127.0.0.1, a client that verifies the certificate (and one that does
# not trust it, which must fail), TLS 1.1 refused, plain HTTP on the TLS
# port refused, and an agent enrolling and checking in over TLS.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/server.sh"
trap pw_srv_cleanup EXIT
T=$PW_SRV_TMP
db=sqlite:$T/server.db
for tool in openssl curl; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing; run scripts/deps"; exit 1; }
done

# A P-256 key and a one-day certificate for the IP address 127.0.0.1.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" >"$T/openssl.log" 2>&1; then
  cat "$T/openssl.log"
  echo "FAIL: openssl could not make a certificate"
  exit 1
fi
chmod 600 "$T/key.pem"
printf '[server]\ntls_cert = %s\ntls_key = %s\naccess_log = true\n' "$T/cert.pem" "$T/key.pem" \
  >"$T/tls.conf"

# ---- -n ---------------------------------------------------------------------
out=$("$PW_BIN" server -n -c "$T/tls.conf" 2>&1)
check "-n accepts the TLS config: $out" test $? -eq 0
check "-n reports HTTPS" grep -q "configuration OK: HTTPS on 0.0.0.0:8443" <<<"$out"
out=$("$PW_BIN" server -n -c "$T/tls.conf" --listen '[::]:443' 2>&1)
check "TLS may listen on any address: $out" test $? -eq 0
echo "not a key" >"$T/junk.pem"
out=$("$PW_BIN" server -n -c "$T/tls.conf" --tls-key "$T/junk.pem" 2>&1)
check "a key file that is not PEM exits 2: $out" test $? -eq 2
check "and names it" grep -q "junk.pem is not in PEM format" <<<"$out"
printf '[server]\ntls_cert = %s\n' "$T/cert.pem" >"$T/half.conf"
out=$("$PW_BIN" server -n -c "$T/half.conf" 2>&1)
check "a certificate without a key exits 2" test $? -eq 2

# ---- serve HTTPS ------------------------------------------------------------
"$PW_BIN" user add root --role admin --no-password --db "$db" >/dev/null 2>&1
admin=$("$PW_BIN" user token create root --db "$db" 2>/dev/null)
etok=$("$PW_BIN" user enroll-token create --db "$db" 2>/dev/null)
pw_srv_start A -c "$T/tls.conf" --db "$db" || { pw_srv_summary; exit 1; }
check "the server says https" grep -q "listening on https://127.0.0.1:$PW_SRV_PORT_A" "$T/A.log"
U=https://127.0.0.1:$PW_SRV_PORT_A/api/v1

pw_http GET "$U/health" "" "" --cacert "$T/cert.pem"
expect_status 200 "health over HTTPS, certificate verified"
pw_http GET "$U/health"
check "a client that does not trust the certificate fails" test "$HTTP_STATUS" = 000
check "on verification" grep -qi "certificate" "$T/curl.err"
pw_http GET "$U/health" "" "" --cacert "$T/cert.pem" --tlsv1.0 --tls-max 1.1
check "TLS 1.1 is refused" test "$HTTP_STATUS" = 000
pw_http GET "$U/health" "" "" --cacert "$T/cert.pem" --tlsv1.3
expect_status 200 "TLS 1.3"
pw_http GET "http://127.0.0.1:$PW_SRV_PORT_A/api/v1/health"
check "plain HTTP on the TLS port gets no API reply" test "$HTTP_STATUS" != 200

pw_http POST "$U/agents/enroll" "" \
  "{\"token\":\"$etok\",\"hostname\":\"tls-01\",\"machine_id\":\"m-tls-01\"}" --cacert "$T/cert.pem"
expect_status 201 "enroll over HTTPS"
cred=$(json 'j["credential"]')
zero=$(printf '0%.0s' $(seq 64))
pw_http POST "$U/agents/checkin" "$cred" "{\"inventory_hash\":\"$zero\"}" --cacert "$T/cert.pem"
expect_status 200 "check-in over HTTPS"
pw_http GET "$U/hosts" "$admin" "" --cacert "$T/cert.pem"
check "the host is listed" test "$(json '[h["hostname"] for h in j["hosts"]]')" = '["tls-01"]'
head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$T/big"
pw_http POST "$U/agents/checkin" "$cred" "@$T/big" --cacert "$T/cert.pem"
expect_status 413 "a 9 MiB check-in over HTTPS"

check "SIGTERM stops the TLS server with status 0" pw_srv_stop A
pw_srv_summary
