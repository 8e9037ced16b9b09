"""A remote engine: ``DOCKER_HOST=ssh://…`` against sshd on loopback, standing in for a Pi."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from infra_conformance.engine.runfiles import free_port
from infra_conformance.engine.wait import wait_for


@pytest.fixture
def loopback_sshd(tmp_path):
    """sshd on a free loopback port with throwaway keys; yields ``DOCKER_HOST`` for it."""
    if os.geteuid() != 0 or not Path("/usr/sbin/sshd").exists() or not shutil.which("ssh"):
        pytest.skip("needs root, ssh and sshd (scripts/ensure-tools.sh installs them)")
    port = free_port()
    for name in ("host_key", "client_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / name)], check=True)
    (tmp_path / "authorized_keys").write_text((tmp_path / "client_key.pub").read_text())
    (tmp_path / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {tmp_path / 'host_key'}\n"
        f"AuthorizedKeysFile {tmp_path / 'authorized_keys'}\nPidFile {tmp_path / 'sshd.pid'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nStrictModes no\nUsePAM no\n")
    alias = f"conformance-loopback-{port}"
    # OpenSSH reads the passwd home, not $HOME, so the alias goes into a drop-in of its own.
    dropin = Path(f"/etc/ssh/ssh_config.d/{alias}.conf")
    dropin.write_text(f"Host {alias}\n  HostName 127.0.0.1\n  Port {port}\n  User root\n"
                      f"  IdentityFile {tmp_path / 'client_key'}\n  IdentitiesOnly yes\n"
                      "  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n"
                      # one connection for the run's many docker and compose calls, as docs/usage.md advises
                      f"  ControlMaster auto\n  ControlPath {tmp_path / 'master'}\n  ControlPersist 120\n")
    Path("/run/sshd").mkdir(exist_ok=True)
    daemon = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(tmp_path / "sshd_config")],
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: subprocess.run(["ssh", alias, "true"], check=True, capture_output=True), "sshd on loopback",
                 errors=(subprocess.CalledProcessError,), timeout_s=20)
        yield f"ssh://root@{alias}:{port}"  # docker-py uses port 22 unless the URL names one
    finally:
        subprocess.run(["ssh", "-O", "exit", alias], capture_output=True, check=False)  # the shared connection
        daemon.terminate()
        daemon.wait(10)
        dropin.unlink()


@pytest.mark.slow
@pytest.mark.timing  # it judges budgets: alone on the machine (beside other boots, start-up took 37 to 47 s of 30)
def test_budgets_through_a_remote_engine(loopback_sshd, run_judged):
    run = run_judged("-m", "pi and not load", env={"DOCKER_HOST": loopback_sshd})
    assert run.returncode == 0, run.tail(40)
    assert run.summary["stack"]["emulation"]["engine"] == loopback_sshd.split("@")[-1]
    assert run.summary["stack"]["pi_emulation"] is False
    budgets = {b["name"]: b for b in run.summary["budgets"]}
    assert {"start-up", "idle memory", "DB query p95"} <= budgets.keys()  # the DB one goes through a forward
    assert all(b["passed"] for b in budgets.values()), budgets
