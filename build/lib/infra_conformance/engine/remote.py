"""The engine's host: this machine, or one behind ``DOCKER_HOST=ssh://user@host[:port]``.

A remote host's published ports are loopback ports there, so the suite reaches them
through SSH local forwards; compose's file secrets are bind mounts on that host, so the
secrets folder is copied to the same path there and removed afterwards.
"""

from __future__ import annotations

import os
import shlex
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from infra_conformance.engine.runfiles import free_port
from infra_conformance.engine.wait import wait_for

SSH_OPTIONS = ["-o", "BatchMode=yes", "-o", "ExitOnForwardFailure=yes", "-o", "ConnectTimeout=10"]


def ssh_target(url: str) -> list[str] | None:
    """``ssh`` arguments for an engine URL, or None when it is not reached over SSH.

    >>> ssh_target("ssh://pi@device:2222")
    ['-p', '2222', '--', 'pi@device']
    """
    if not url.startswith("ssh://"):
        return None
    parts = urlsplit(url)
    destination = f"{parts.username}@{parts.hostname}" if parts.username else parts.hostname
    if not destination or destination.startswith("-"):
        return None
    return (["-p", str(parts.port)] if parts.port else []) + ["--", destination]


@dataclass
class EngineHost:
    """Where the engine runs; ``ssh`` is None for this machine."""

    ssh: list[str] | None
    name: str = "local"
    tunnels: list[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def from_environment(cls) -> EngineHost:
        url = os.environ.get("DOCKER_HOST", "")
        target = ssh_target(url)
        return cls(target, url.split("@")[-1]) if target else cls(None)

    def copy_folder(self, folder: Path) -> None:
        """Recreate ``folder`` (mode 0700) with its files at the same path on the engine's host."""
        archive = subprocess.run(["tar", "-C", str(folder), "-cf", "-", "."], capture_output=True, check=True).stdout
        quoted = shlex.quote(str(folder))  # ssh hands its command to the remote shell
        subprocess.run(["ssh", *SSH_OPTIONS, *self.ssh, f"mkdir -p -m 700 {quoted} && tar -C {quoted} -xf -"],
                       input=archive, check=True, capture_output=True)

    def remove_folder(self, folder: Path) -> None:
        subprocess.run(["ssh", *SSH_OPTIONS, *self.ssh, f"rm -rf {shlex.quote(str(folder))}"],
                       check=False, capture_output=True)

    def forward(self, remote_port: int) -> int:
        """Forward a free local loopback port to the engine host's loopback ``remote_port``."""
        local = free_port()
        tunnel = subprocess.Popen(["ssh", "-N", *SSH_OPTIONS, "-L", f"127.0.0.1:{local}:127.0.0.1:{remote_port}",
                                   *self.ssh], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.tunnels.append(tunnel)
        wait_for(lambda: socket.create_connection(("127.0.0.1", local), timeout=1).close(),
                 f"SSH forward to port {remote_port}", errors=(OSError,), timeout_s=20,
                 hint="check that `ssh " + " ".join(self.ssh) + "` works without a password")
        return local

    def close(self) -> None:
        for tunnel in self.tunnels:
            tunnel.terminate()
