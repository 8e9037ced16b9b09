#!/bin/bash
# Writes the ACL file from the mounted secrets (as SHA-256 hashes, never plain), then runs Redis with each of
# its log lines turned into one JSON object on stdout: Redis has no JSON log format of its own (claim Z12).
# This script stays PID 1: it passes SIGTERM and SIGINT on to Redis, so that `docker stop` still saves and
# shuts down cleanly, and it exits with Redis's status once the last log line is out.
set -euo pipefail
hash() { sha256sum "$1" | cut -d' ' -f1; }
umask 077
cat > /tmp/users.acl <<ACL
user default off
user admin on #$(hash /run/secrets/redis_admin_password) ~* &* +@all
user app on #$(hash /run/secrets/redis_password) ~session:* resetchannels -@all +@read +@write +@keyspace +@connection +@transaction -@dangerous -@scripting
ACL

# Redis's line: "<pid>:<role> <dd> <Mon> <yyyy> <hh:mm:ss.mmm> <mark> <message>", the time in UTC (no TZ here).
LINE='^([0-9]+):([A-Z]) ([0-9]{2}) ([A-Z][a-z]{2}) ([0-9]{4}) ([0-9:.]+) ([.*#-]) (.*)$'
declare -A MONTH=([Jan]=01 [Feb]=02 [Mar]=03 [Apr]=04 [May]=05 [Jun]=06 [Jul]=07 [Aug]=08 [Sep]=09 [Oct]=10
                  [Nov]=11 [Dec]=12)
declare -A LEVEL=([.]=debug [-]=verbose [*]=notice [#]=warning)

json_lines() {
    local line time level message
    while IFS= read -r line; do
        if [[ $line =~ $LINE ]]; then
            local m=("${BASH_REMATCH[@]}")
            time="${m[5]}-${MONTH[${m[4]}]:-00}-${m[3]}T${m[6]}Z" level=${LEVEL[${m[7]}]} message=${m[8]}
        else  # not Redis's format (an error of the server's start): still one JSON object
            time=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ) level=warning message=$line
        fi
        message=${message//\\/\\\\} message=${message//\"/\\\"}
        printf '{"time":"%s","level":"%s","message":"%s"}\n' "$time" "$level" "${message//[[:cntrl:]]/ }"
    done
}

exec {log}> >(json_lines)
converter=$!
redis-server /etc/redis-conformance/redis.conf >&"$log" 2>&1 {log}>&- &
server=$!
exec {log}>&-  # Redis holds the only writer now: the converter ends when Redis does
trap 'kill -TERM "$server" 2>/dev/null || true' TERM INT
while true; do
    wait "$server" && status=0 || status=$?
    kill -0 "$server" 2>/dev/null || break  # a signal ended the wait, not Redis
done
wait "$converter" || true
exit "$status"
