#!/usr/bin/env bash
# Make sure a Docker engine answers. Installs Debian's docker.io and starts dockerd
# only when none answers; never reconfigures an engine that already runs.
set -euo pipefail

say() { echo "ensure-docker: $*"; }
die() { echo "ensure-docker: $*" >&2; exit 1; }

if docker info >/dev/null 2>&1; then
  say "engine already running ($(docker version -f '{{.Server.Version}}' 2>/dev/null)), left as is"
  exit 0
fi
[[ -n "${DOCKER_HOST:-}" ]] && die "DOCKER_HOST=$DOCKER_HOST does not answer; check that engine, or unset DOCKER_HOST to use a local one"
[[ $(id -u) -eq 0 ]] || die "no Docker engine answers and starting one needs root; start dockerd (sudo systemctl start docker) or add yourself to the docker group"

if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io iptables >/dev/null 2>&1 \
    || die "apt-get install docker.io failed"
  did="installed docker.io and "
fi
log=/var/log/dockerd-conformance.log
nohup dockerd >"$log" 2>&1 &
deadline=$((SECONDS + 60))
until docker info >/dev/null 2>&1; do
  ((SECONDS < deadline)) || die "dockerd did not answer within 60 s; see $log"
  sleep 0.5
done
say "${did:-}started dockerd $(docker version -f '{{.Server.Version}}') (log: $log)"
