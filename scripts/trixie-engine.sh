#!/usr/bin/env bash
# Run one command against Debian trixie's Docker engine (26.1) and compose (2.26), beside the engine that runs.
#
#   scripts/trixie-engine.sh COMMAND [ARG...]
#
# The second engine lives in a network namespace of its own (its bridges and firewall rules never touch the
# host's or the running engine's), reaches Debian's mirror through slirp4netns (user-mode NAT, no host
# firewall rule), and keeps its files in $TRIXIE_DIR. COMMAND runs in that namespace with DOCKER_HOST and
# the trixie CLI and compose plugin first; then the engine, its containerd and slirp4netns stop, whatever
# COMMAND's outcome. The packages come from Debian's mirror through a private apt configuration: the host's
# sources and packages are left as they are. Trixie's runc needs glibc 2.38, which bookworm does not have, so
# containers run under the host's runc (bookworm's 1.1.5).
set -euo pipefail

say() { echo "trixie-engine: $*" >&2; }
die() { echo "trixie-engine: $*" >&2; exit 1; }

(($# > 0)) || die "usage: $0 COMMAND [ARG...]"
[[ $(id -u) -eq 0 ]] || die "a second engine needs root (a network namespace and dockerd)"
[[ $(uname -m) == x86_64 ]] || die "this target downloads amd64 packages; on $(uname -m) run it on an amd64 machine"

dir=${TRIXIE_DIR:-/var/lib/infra-conformance/trixie}
run=/run/infra-conformance-trixie
netns=infra-conformance-trixie
root=$dir/root
packages=(docker.io docker-cli docker-compose containerd)

fetch_packages() {
  [[ -x $root/usr/sbin/dockerd ]] && return
  say "downloading ${packages[*]} from trixie into $dir"
  mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/debs" "$root"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
    >"$dir/apt/sources.list"
  : >"$dir/apt/status"
  local apt=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
             -o "Dir::State::Status=$dir/apt/status" -o APT::Sandbox::User=root)
  apt-get "${apt[@]}" update -qq >/dev/null || die "apt-get update for trixie failed"
  (cd "$dir/debs" && apt-get "${apt[@]}" download "${packages[@]}" >/dev/null) || die "downloading ${packages[*]} failed"
  for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
  rm -f "$root/usr/sbin/runc" "$root/usr/bin/runc"  # needs glibc 2.38: the host's runc runs the containers
}

ensure_host_tools() {
  local missing=()
  command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
  command -v runc >/dev/null 2>&1 || missing+=(runc)
  command -v nsenter >/dev/null 2>&1 || missing+=(util-linux)
  ((${#missing[@]} == 0)) && return
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || die "apt-get install ${missing[*]} failed"
}

in_netns() { nsenter "--net=/run/netns/$netns" -- "$@"; }

stop() {
  local pid
  for name in dockerd slirp4netns; do  # dockerd stops its containers and its containerd first
    [[ -f $run/$name.pid ]] || continue
    pid=$(cat "$run/$name.pid")
    if kill "$pid" 2>/dev/null; then
      for _ in $(seq 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    fi
  done
  ! mountpoint -q "$dir/data" || umount "$dir/data"  # dockerd's bind mount of its own data root
  ip netns del "$netns" 2>/dev/null || true
  rm -rf "$run"
}

start() {
  [[ -e /run/netns/$netns ]] && die "$netns exists: another run is using it, or one was killed (ip netns del $netns)"
  mkdir -p "$run" "$dir/data" "$dir/docker-config/cli-plugins"
  ln -sf "$root/usr/libexec/docker/cli-plugins/docker-compose" "$dir/docker-config/cli-plugins/docker-compose"
  echo '{}' >"$dir/daemon.json"
  ip netns add "$netns"
  in_netns ip link set lo up
  slirp4netns --configure --mtu=65520 --disable-host-loopback "--netns-type=path" "/run/netns/$netns" tap0 \
    >"$dir/slirp4netns.log" 2>&1 &
  echo $! >"$run/slirp4netns.pid"
  PATH=$root/usr/bin:$root/usr/sbin:$PATH nsenter "--net=/run/netns/$netns" -- "$root/usr/sbin/dockerd" \
    --config-file "$dir/daemon.json" --data-root "$dir/data" --exec-root "$run/exec" --pidfile "$run/docker.pid" \
    -H "unix://$run/docker.sock" >"$dir/dockerd.log" 2>&1 &
  echo $! >"$run/dockerd.pid"  # nsenter execs dockerd: the same process
  local deadline=$((SECONDS + 60))
  until DOCKER_HOST=unix://$run/docker.sock "$root/usr/bin/docker" info >/dev/null 2>&1; do
    ((SECONDS < deadline)) || die "trixie's dockerd did not answer within 60 s; see $dir/dockerd.log"
    kill -0 "$(cat "$run/dockerd.pid")" 2>/dev/null || die "trixie's dockerd exited; see $dir/dockerd.log"
    sleep 0.5
  done
}

copy_base_image() {
  local image=debian:bookworm-slim
  DOCKER_HOST=unix://$run/docker.sock "$root/usr/bin/docker" image inspect "$image" >/dev/null 2>&1 && return
  docker image inspect "$image" >/dev/null 2>&1 || die "$image is missing from the running engine: run make setup"
  docker save "$image" | DOCKER_HOST=unix://$run/docker.sock "$root/usr/bin/docker" load -q >/dev/null \
    || die "copying $image into trixie's engine failed"
}

ensure_host_tools
fetch_packages
trap stop EXIT
trap 'exit 130' INT TERM
start
copy_base_image
say "Docker $(DOCKER_HOST=unix://$run/docker.sock "$root/usr/bin/docker" version -f '{{.Server.Version}}')," \
    "compose $(DOCKER_CONFIG=$dir/docker-config "$root/usr/bin/docker" compose version --short)"
status=0
in_netns env "PATH=$root/usr/bin:$PATH" "DOCKER_HOST=unix://$run/docker.sock" "DOCKER_CONFIG=$dir/docker-config" \
  "$@" || status=$?
exit $status
