#!/usr/bin/env bash
# Make sure the base image exists locally: debian:bookworm-slim for the engine's own platform,
# or, given a platform such as linux/arm64, conformance-base/debian:bookworm-slim-arm64.
# Pulls it; when no registry is reachable, builds an equivalent with debootstrap.
set -euo pipefail

platform=${1:-}
image=debian:bookworm-slim
[[ -n $platform ]] && image=conformance-base/debian:bookworm-slim-$(tr / - <<<"${platform#linux/}")
say() { echo "ensure-base-image: $*"; }
die() { echo "ensure-base-image: $*" >&2; exit 1; }

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image already present"
  exit 0
fi
if [[ -z $platform ]]; then
  timeout 120 docker pull -q "$image" >/dev/null 2>&1 && { say "pulled $image"; exit 0; }
else
  # A pull for another platform re-tags debian:bookworm-slim: put the engine's own image back afterwards.
  own=$(docker image inspect -f '{{.Id}}' debian:bookworm-slim 2>/dev/null || true)
  if timeout 300 docker pull -q --platform "$platform" debian:bookworm-slim >/dev/null 2>&1; then
    docker tag debian:bookworm-slim "$image"
    if [[ -n $own ]]; then docker tag "$own" debian:bookworm-slim; else docker rmi debian:bookworm-slim >/dev/null; fi
    say "pulled debian:bookworm-slim for $platform as $image"
    exit 0
  fi
fi
[[ $(id -u) -eq 0 ]] || die "cannot pull $image and debootstrap needs root; run this script as root or pull the image"
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || die "apt-get install debootstrap failed"
}
arch=${platform#linux/}
arch=${arch:-$(docker version -f '{{.Server.Arch}}')}
[[ $arch == amd64 || $arch == arm64 ]] || die "no debootstrap recipe for $arch; pull the image instead"
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
start=$SECONDS
debootstrap --variant=minbase --arch="$arch" bookworm "$root" http://deb.debian.org/debian >/dev/null \
  || die "debootstrap --arch=$arch failed; is deb.debian.org reachable (and, for another architecture, qemu registered)?"
# Match the official slim image: no apt lists or caches (now or after later installs), no docs.
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/*
cat > "$root"/etc/apt/apt.conf.d/docker-clean <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
tar -C "$root" -c . | python3 "$(dirname "$0")/rootfs-image.py" "linux/$arch" "$image" | docker load -q >/dev/null
say "no registry reachable: built $image for linux/$arch with debootstrap in $((SECONDS - start)) s"
