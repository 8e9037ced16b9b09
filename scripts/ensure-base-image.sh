#!/usr/bin/env bash
# Make sure debian:bookworm-slim exists locally. Pulls it; when no registry is
# reachable, builds an equivalent with debootstrap and imports it under that tag.
set -euo pipefail

image=debian:bookworm-slim
say() { echo "ensure-base-image: $*"; }
die() { echo "ensure-base-image: $*" >&2; exit 1; }

if docker image inspect "$image" >/dev/null 2>&1; then
  say "$image already present"
  exit 0
fi
if timeout 120 docker pull -q "$image" >/dev/null 2>&1; then
  say "pulled $image"
  exit 0
fi
[[ $(id -u) -eq 0 ]] || die "cannot pull $image and debootstrap needs root; run this script as root or pull the image"
command -v debootstrap >/dev/null 2>&1 || {
  apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null 2>&1 || die "apt-get install debootstrap failed"
}
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
start=$SECONDS
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null \
  || die "debootstrap failed; is deb.debian.org reachable?"
# Match the official slim image: no apt lists or caches (now or after later installs), no docs.
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/*
cat > "$root"/etc/apt/apt.conf.d/docker-clean <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
tar -C "$root" -c . | docker import -c 'CMD ["bash"]' - "$image" >/dev/null
say "no registry reachable: built $image with debootstrap in $((SECONDS - start)) s"
