#!/bin/bash
# Entrypoint of the CRM PostgreSQL image.
# First start (empty volume): copy the cluster that initdb made at build time,
# set the superuser's password and run /docker-entrypoint-initdb.d/*.sql against
# a temporary server that only listens on the unix socket; then exec the real
# server. Secrets are read from /run/secrets by psql backticks; they never
# appear on a command line or in the output.
# Every log line is one JSON object (claim Z12): the server's records on stdout
# (postgresql.conf), and on stderr this script's lines and, converted here, what
# its tools and the server say in plain text (the lines before the server's log
# collector starts).
set -eu

PGDATA=/var/lib/postgresql/data
TEMPLATE=/var/lib/postgresql/template
PGCONF=/etc/postgresql-conformance/postgresql.conf
PGSOCKET=/run/postgresql
INITDB_DIR=/docker-entrypoint-initdb.d
SECRETS_DIR=/run/secrets
PATH=/usr/lib/postgresql/15/bin:$PATH
export PGDATA PATH

json_line() {  # time, level, message
    local message=${3//\\/\\\\}
    message=${message//\"/\\\"}
    printf '{"time":"%s","level":"%s","message":"%s"}\n' "$1" "$2" "${message//[[:cntrl:]]/ }"
}
now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
log() { json_line "$(now)" LOG "entrypoint: $*" >&3; }
die() { json_line "$(now)" FATAL "entrypoint: $*" >&3; exit 1; }

# Anything that does not look like a postgres option is run as a command
# (e.g. `docker run --rm IMAGE psql -h ...`).
if [ "$#" -gt 0 ] && [ "${1#-}" = "$1" ]; then
    exec "$@"
fi

# The server's plain line: "<yyyy-mm-dd> <hh:mm:ss.mmm> UTC [<pid>] <LEVEL>:  <message>" (log_line_prefix).
LINE='^([0-9-]{10}) ([0-9:.]{12}) UTC \[[0-9]+\] ([A-Z]+):  (.*)$'
json_lines() {
    local line
    while IFS= read -r line; do
        if [[ $line =~ $LINE ]]; then
            json_line "${BASH_REMATCH[1]}T${BASH_REMATCH[2]}Z" "${BASH_REMATCH[3]}" "${BASH_REMATCH[4]}"
        else
            json_line "$(now)" LOG "$line"
        fi
    done
}
exec 3>&2 2> >(json_lines >&2)  # fd 3: the container's stderr, for this script's own lines
converter=$!

umask 0077

# TLS: a private key and a self-signed certificate made at every start, in the
# /run/postgresql tmpfs, so the key is in no image, volume or log. A key and
# certificate already there (mounted) are kept.
TLS_DIR=$PGSOCKET/tls
if [ ! -s "$TLS_DIR/server.key" ] || [ ! -s "$TLS_DIR/server.crt" ]; then
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
        -subj "/CN=postgres" -addext "subjectAltName=DNS:postgres,DNS:localhost,IP:127.0.0.1" \
        -keyout "$TLS_DIR/server.key" -out "$TLS_DIR/server.crt" 2>/dev/null \
        || die "openssl could not create the TLS key and certificate in $TLS_DIR"
    log "generated a self-signed TLS certificate for this start"
fi

# Logs (postgresql.conf): the collector writes postgresql.json, here a link to the server's stdout, so each
# record is one JSON line in `docker logs`; postgresql.log, which only gets what is not a record, to stderr.
LOG_DIR=$PGSOCKET/log
mkdir -p "$LOG_DIR"
ln -sfn /proc/self/fd/1 "$LOG_DIR/postgresql.json"
ln -sfn /proc/self/fd/2 "$LOG_DIR/postgresql.log"

# Cleanup for a failed/interrupted first initialisation: stop the temporary
# server and empty the data directory (everything in it was created by this
# initialisation), so that the next start retries instead of serving a half-built
# database.
init_armed=0
cleanup_init() {
    rc=$?
    trap - EXIT INT TERM
    if [ "$init_armed" = 1 ]; then
        log "initialisation failed (exit $rc); removing partial cluster"
        pg_ctl -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
        find "$PGDATA" -mindepth 1 -delete || true
    fi
    exec 2>&3  # the converter ends once it has written every line it got
    wait "$converter" || true
    [ "$rc" -ne 0 ] || rc=1
    exit "$rc"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    [ -d "$PGDATA" ] && [ -w "$PGDATA" ] \
        || die "$PGDATA is missing or not writable by uid $(id -u); mount a volume there"
    [ -z "$(ls -A "$PGDATA")" ] \
        || die "$PGDATA is not empty but has no PG_VERSION; refusing to initialise over it"
    [ -d "$PGSOCKET" ] && [ -w "$PGSOCKET" ] \
        || die "$PGSOCKET is missing or not writable (mount a tmpfs there)"
    for s in pg_admin_password pg_app_password pg_readonly_password; do
        [ -r "$SECRETS_DIR/$s" ] && [ -s "$SECRETS_DIR/$s" ] \
            || die "secret $SECRETS_DIR/$s is missing, empty or unreadable by uid $(id -u)"
    done

    log "empty data directory: copying the cluster that initdb made in the image"
    init_armed=1
    trap cleanup_init EXIT INT TERM
    cp -a "$TEMPLATE"/. "$PGDATA"/
    chmod 0700 "$PGDATA"

    # Temporary server: unix socket only, nothing logged that could contain
    # a secret (failing statements, pg_stat_statements texts). stdout carries only
    # the server's JSON log records: pg_ctl is silent, and the temporary server (no
    # log collector) and psql write to stderr, where they are converted.
    pg_ctl -D "$PGDATA" -s -l /dev/stderr -w -t 120 \
        -o "-c config_file=$PGCONF -c listen_addresses='' -c log_min_error_statement=panic -c pg_stat_statements.track=none -c logging_collector=off -c log_destination=stderr" \
        start

    # The superuser's password, from its secret, through psql's stdin: never on a command line.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet -h "$PGSOCKET" -U postgres -d postgres -f - >&2 <<'SQL'
\set admin_password `cat /run/secrets/pg_admin_password`
ALTER ROLE postgres PASSWORD :'admin_password';
SQL

    for f in "$INITDB_DIR"/*.sql; do
        [ -e "$f" ] || continue
        log "running $f"
        psql -v ON_ERROR_STOP=1 --no-psqlrc --quiet \
            -h "$PGSOCKET" -U postgres -d postgres -f "$f" >&2
    done

    pg_ctl -D "$PGDATA" -s -m fast -w -t 120 stop
    trap - EXIT INT TERM
    init_armed=0
    log "initialisation complete"
else
    log "data directory already initialised (PostgreSQL $(cat "$PGDATA/PG_VERSION")); skipping init"
fi

exec postgres -D "$PGDATA" -c config_file="$PGCONF" "$@" 3>&-
