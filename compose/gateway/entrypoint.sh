#!/bin/bash
# Runs nginx with its error log turned into one JSON object per line on stderr: nginx's error log has no
# format to set (its access log is JSON on stdout, nginx.conf). nginx stays PID 1, so signals reach it as
# before; the converter is its child and reads its stderr.
set -euo pipefail
# nginx's line: "<yyyy>/<mm>/<dd> <hh:mm:ss> [<level>] <pid>#<tid>: [*<connection> ]<message>", in UTC here.
LINE='^([0-9]{4})/([0-9]{2})/([0-9]{2}) ([0-9:]{8}) \[([a-z]+)\] [0-9]+#[0-9]+: (\*[0-9]+ )?(.*)$'

json_lines() {
    local line time level message
    while IFS= read -r line; do
        if [[ $line =~ $LINE ]]; then
            local m=("${BASH_REMATCH[@]}")
            time="${m[1]}-${m[2]}-${m[3]}T${m[4]}Z" level=${m[5]} message=${m[7]}
        else  # not nginx's format (nginx -t, a start that fails): still one JSON object
            time=$(date -u +%Y-%m-%dT%H:%M:%SZ) level=error message=$line
        fi
        message=${message//\\/\\\\} message=${message//\"/\\\"}
        printf '{"time":"%s","level":"%s","message":"%s"}\n' "$time" "$level" "${message//[[:cntrl:]]/ }"
    done
}

exec nginx -e stderr -g 'daemon off;' 2> >(json_lines >&2)
