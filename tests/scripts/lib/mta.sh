# Sourced by the notification tests: a real MTA, Debian's exim4 (the
# exim4-daemon-light package), run in the foreground by the test with its
# own configuration, spool, log and pid file in a directory of its own,
# listening on 127.0.0.1 at a free port and delivering every message to
# one maildir the test reads. Nothing of the system's /etc/exim4 or
# /var/spool/exim4 is used or changed. AUTH PLAIN with MTA_USER and
# MTA_PASSWORD is required before RCPT, so a client that does not
# authenticate delivers nothing. With MTA_TLS=1 it offers STARTTLS with a
# certificate made here (MTA_CA is its CA for the client).
#
#   mta_setup           # a directory (MTA_DIR), the configuration, MTA_PORT
#   mta_start           # starts exim4 (MTA_PID), waits for the port
#   mta_stop            # stops it (SIGTERM, bounded wait)
#   mta_messages        # the files of the maildir, one per message
#   mta_notify_conf     # the [notify] lines of patchwarden's configuration that
#                       # send to it (STARTTLS when set up with MTA_TLS=1), from
#                       # patchwarden@example.org
#   mta_cleanup         # mta_stop, and removes MTA_DIR

# exim refuses a configuration, spool or maildir that its user cannot
# use: the directory is Debian-exim's (outside the test's own, which is
# root's alone), the configuration root's.
mta_setup() {
  MTA_DIR=$(mktemp -d /tmp/pw-mta.XXXXXX)
  MTA_USER=${MTA_USER:-pw-notify}
  MTA_PASSWORD=${MTA_PASSWORD:-s3cret-smtp}
  mkdir -p "$MTA_DIR/spool" "$MTA_DIR/maildir" "$MTA_DIR/log"
  MTA_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  local tls=""
  if [ "${MTA_TLS:-0}" = 1 ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
      -addext subjectAltName=IP:127.0.0.1 -keyout "$MTA_DIR/key.pem" \
      -out "$MTA_DIR/cert.pem" >/dev/null 2>&1 || return 1
    MTA_CA=$MTA_DIR/cert.pem
    tls="tls_certificate = $MTA_DIR/cert.pem
tls_privatekey = $MTA_DIR/key.pem
tls_advertise_hosts = *"
  else
    tls="tls_advertise_hosts ="
  fi
  chown -R Debian-exim:Debian-exim "$MTA_DIR"
  chmod 755 "$MTA_DIR"
  cat >"$MTA_DIR/exim.conf" <<CONF
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = $MTA_DIR/spool
log_file_path = $MTA_DIR/log/%slog
pid_file_path = $MTA_DIR/exim.pid
daemon_smtp_ports = $MTA_PORT
local_interfaces = 127.0.0.1
primary_hostname = mta.test
host_lookup =
rfc1413_hosts =
keep_environment =
$tls
acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  deny !authenticated = *
       message = authenticate first
  accept
begin routers
all:
  driver = accept
  transport = maildir
begin transports
maildir:
  driver = appendfile
  directory = $MTA_DIR/maildir
  maildir_format
  user = Debian-exim
  envelope_to_add
  return_path_add
begin retry
* * F,1h,1m
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$MTA_USER}}{eq{\$auth3}{$MTA_PASSWORD}}}}
  server_set_id = \$auth2
CONF
  chown root:root "$MTA_DIR/exim.conf"
  chmod 644 "$MTA_DIR/exim.conf"
}

mta_start() {
  exim4 -C "$MTA_DIR/exim.conf" -bdf -q1s >>"$MTA_DIR/exim.out" 2>&1 &
  MTA_PID=$!
  local i
  for i in $(seq 1 100); do
    if python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' \
      "$MTA_PORT" 2>/dev/null; then
      return 0
    fi
    kill -0 "$MTA_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "exim4 did not start:" >&2
  cat "$MTA_DIR/exim.out" "$MTA_DIR"/log/* >&2 2>/dev/null
  return 1
}

mta_stop() {
  [ -n "${MTA_PID:-}" ] || return 0
  kill -TERM "$MTA_PID" 2>/dev/null
  local i
  for i in $(seq 1 100); do
    kill -0 "$MTA_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$MTA_PID" 2>/dev/null || true
  wait "$MTA_PID" 2>/dev/null
  MTA_PID=
}

mta_messages() {
  find "$MTA_DIR/maildir/new" "$MTA_DIR/maildir/cur" -type f 2>/dev/null | sort
}

mta_cleanup() {
  mta_stop
  [ -n "${MTA_DIR:-}" ] && rm -rf "$MTA_DIR"
}

mta_notify_conf() {
  printf '[notify]\nsmtp_url = smtp://127.0.0.1:%s\nsmtp_user = %s\nsmtp_password = %s\n' \
    "$MTA_PORT" "$MTA_USER" "$MTA_PASSWORD"
  printf 'from = patchwarden@example.org\n'
  [ -n "${MTA_CA:-}" ] && printf 'smtp_starttls = true\nsmtp_ca = %s\n' "$MTA_CA"
  return 0
}
