#!/usr/bin/env bash
# Everything the suite needs from the machine, each step idempotent.
set -euo pipefail
here=$(dirname "$0")
"$here/ensure-docker.sh"
"$here/ensure-compose.sh"
"$here/ensure-base-image.sh"
"$here/ensure-tools.sh"
