#!/usr/bin/env bash
# Host tools: sysbench (Pi 4 calibration), taskset (CPU pinning), ssh (remote engines),
# sshd (the self-test of a remote engine, on loopback) and chromium (the report's browser test).
set -euo pipefail

missing=()
command -v sysbench >/dev/null 2>&1 || missing+=(sysbench)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
command -v ssh >/dev/null 2>&1 || missing+=(openssh-client)
[[ -x /usr/sbin/sshd ]] || missing+=(openssh-server)
[[ -n ${CONFORMANCE_NO_BROWSER:-} ]] || command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if ((${#missing[@]} == 0)); then
  echo "ensure-tools: sysbench, taskset, ssh, sshd and chromium already present"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-tools: ${missing[*]} missing and installing needs root; the Pi budgets will say so (or use --pi-emulation=off)" >&2
  exit 0
fi
apt-get update -qq >/dev/null 2>&1 || true
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || { echo "ensure-tools: apt-get install ${missing[*]} failed" >&2; exit 1; }
echo "ensure-tools: installed ${missing[*]}"
