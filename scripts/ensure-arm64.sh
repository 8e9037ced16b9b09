#!/usr/bin/env bash
# Make this machine able to build and run linux/arm64 containers: natively on an arm64 host,
# otherwise through qemu-user emulation registered with binfmt_misc (an existing registration
# is never changed). Then make sure the arm64 base image exists.
set -euo pipefail
here=$(dirname "$0")
say() { echo "ensure-arm64: $*"; }
die() { echo "ensure-arm64: $*" >&2; exit 1; }
binfmt=/proc/sys/fs/binfmt_misc
aarch64_magic=7f454c460201010000000000000000000200b700

registered() {  # any enabled binfmt_misc entry that matches aarch64 ELF files (qemu-aarch64, tonistiigi's, ...)
  local entry
  for entry in "$binfmt"/*; do
    grep -qsx "magic $aarch64_magic" "$entry" && grep -qsx enabled "$entry" && { echo "$entry"; return; }
  done
  return 0
}

if [[ $(docker version -f '{{.Server.Arch}}') == arm64 ]]; then
  say "the engine runs on arm64: no emulation needed"
elif entry=$(registered) && [[ -n $entry ]]; then
  say "arm64 emulation already registered ($(basename "$entry"))"
else
  [[ $(id -u) -eq 0 ]] || die "arm64 emulation is not registered, and registering it needs root"
  if [[ ! -f /usr/lib/binfmt.d/qemu-aarch64.conf ]]; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static >/dev/null 2>&1 \
      || die "apt-get install qemu-user-static failed"
  fi
  [[ -f $binfmt/register ]] || mount -t binfmt_misc binfmt_misc "$binfmt" || die "cannot mount binfmt_misc"
  if [[ -n $(registered) ]]; then
    say "arm64 emulation already registered"
  else
    [[ -e $binfmt/qemu-aarch64 ]] && die "$binfmt/qemu-aarch64 exists but is disabled; enable it (echo 1 > it) or remove it"
    cat /usr/lib/binfmt.d/qemu-aarch64.conf > "$binfmt/register" || die "cannot register qemu-aarch64 with binfmt_misc"
    say "registered qemu-aarch64 (Debian's qemu-user-static) with binfmt_misc"
  fi
fi
"$here/ensure-base-image.sh" linux/arm64
arch=$(docker run --rm --platform linux/arm64 --network none conformance-base/debian:bookworm-slim-arm64 uname -m) \
  || die "an arm64 container does not start"
[[ $arch == aarch64 ]] || die "an arm64 container reports $arch, not aarch64"
say "arm64 containers run (uname -m: $arch)"
