"""Compose command lines and per-run files, checked the way pytest-docker checks its own."""

import stat
import subprocess
from pathlib import Path
from unittest import mock

import pytest
import yaml

from infra_conformance.engine import compose, runfiles
from infra_conformance.profile.file import load_profile

PROFILE = load_profile(Path(__file__).parents[2] / "compose")


def test_project_names_are_unique_and_prefixed():
    names = {compose.project_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith("conformance-") and len(n) == 20 for n in names)


def test_setup_validates_builds_then_waits_with_a_deadline():
    assert compose.setup_commands(90) == [
        ["config", "--quiet"], ["build", "--quiet"], ["up", "--detach", "--no-build", "--wait", "--wait-timeout", "90"]]


def test_cleanup_removes_volumes_and_orphans():
    assert compose.cleanup_commands() == [["down", "--volumes", "--remove-orphans", "--timeout", "10"]]


def test_exact_command_line_is_an_argument_list():
    runner = compose.Compose(("a b.yaml", "$(touch x).yaml"), "conformance-1", {"SECRETS_DIR": "/s"})
    with mock.patch("subprocess.run") as run:
        run.return_value = subprocess.CompletedProcess([], 0, "", "")
        runner.run(*compose.cleanup_commands()[0])
    argv = run.call_args.args[0]
    assert argv == [*compose.compose_command(), "-f", "a b.yaml", "-f", "$(touch x).yaml", "-p", "conformance-1",
                    "down", "--volumes", "--remove-orphans", "--timeout", "10"]
    assert "shell" not in run.call_args.kwargs and run.call_args.kwargs["env"]["SECRETS_DIR"] == "/s"


def test_compose_runs_as_the_docker_clis_plugin_binary_where_there_is_one(tmp_path, monkeypatch):
    plugin = tmp_path / "cli-plugins" / "docker-compose"
    plugin.parent.mkdir()
    plugin.write_text("#!/bin/sh\n")
    monkeypatch.setattr(compose, "SYSTEM_PLUGIN_DIRS", ())
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    compose.compose_command.cache_clear()
    try:
        assert compose.compose_command() == ("docker", "compose")  # not executable: the docker CLI skips it too
        plugin.chmod(0o755)
        compose.compose_command.cache_clear()
        assert compose.compose_command() == (str(plugin),)
    finally:
        compose.compose_command.cache_clear()


def test_pytest_docker_port_lookup_goes_through_the_argument_list():
    runner = compose.Compose(("a.yaml",), "conformance-1")
    with mock.patch("subprocess.run") as run:
        run.return_value = subprocess.CompletedProcess([], 0, "0.0.0.0:49153\n", "")
        assert runner.execute("port gateway 8080") == b"0.0.0.0:49153\n"
    assert run.call_args.args[0][-3:] == ["port", "gateway", "8080"]


def test_a_failed_command_raises_with_composes_last_line():
    runner = compose.Compose(("a.yaml",), "conformance-1")
    with mock.patch("subprocess.run") as run:
        run.return_value = subprocess.CompletedProcess([], 1, "", " Container x  Started\nError: port is allocated\n")
        with pytest.raises(compose.ComposeError, match="^Error: port is allocated$"):
            runner.run("up")


def test_secrets_are_random_private_and_unterminated(tmp_path):
    folder = runfiles.write_secrets(PROFILE.secrets, tmp_path / "secrets")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((folder / name).stat().st_mode) == runfiles.SECRET_MODE for name in PROFILE.secrets)
    values = {name: (folder / name).read_text() for name in PROFILE.secrets}
    assert len(set(values.values())) == len(PROFILE.secrets)
    assert all(len(v) >= 32 and not v.endswith("\n") for v in values.values())
    again = runfiles.write_secrets(PROFILE.secrets, tmp_path / "again")
    assert (again / "jwt_secret").read_text() != values["jwt_secret"]


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", ".hidden", "a/b"])
def test_a_secret_is_never_written_outside_its_folder(tmp_path, name):
    with pytest.raises(ValueError, match="not a plain file name"):
        runfiles.write_secrets([name], tmp_path / "secrets")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["secrets"]


def test_secrets_go_only_into_a_new_folder(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "x").symlink_to(tmp_path / "target")
    with pytest.raises(FileExistsError):
        runfiles.write_secrets(["x"], tmp_path / "secrets")
    assert not (tmp_path / "target").exists()


NETWORKS = {"postgres": ["data"], "redis": ["data", "cache"]}


def test_access_overlay_reaches_data_services_through_forwarders_without_touching_them():
    """The stores keep their networks (an internal one stays internal); the suite's forwarders join them and
    publish the stores' ports on fixed loopback ports."""
    ports = iter([40001, 40002])
    overlay = runfiles.access_overlay(PROFILE, NETWORKS, choose_port=lambda: next(ports))
    assert set(overlay["services"]) == {"conformance-access-postgres", "conformance-access-redis"}
    redis = overlay["services"]["conformance-access-redis"]
    assert redis["command"] == ["socat", "TCP-LISTEN:6379,fork,reuseaddr", "TCP:redis:6379"]
    assert redis["networks"] == ["data", "cache", runfiles.ACCESS_NETWORK]
    assert redis["ports"] == ["127.0.0.1:40002:6379"] and redis["labels"] == {runfiles.ACCESS_LABEL: "redis"}
    assert overlay["networks"] == {runfiles.ACCESS_NETWORK: {}}


def test_free_ports_are_drawn_below_the_ephemeral_range(tmp_path):
    ephemeral = tmp_path / "ip_local_port_range"
    ephemeral.write_text("32768\t60999\n")
    assert all(22768 <= runfiles.free_port(ephemeral) < 32768 for _ in range(20))
    ephemeral.write_text("1024\t65535\n")  # nothing below it: the kernel's choice, from the range
    assert 1024 <= runfiles.free_port(ephemeral) <= 65535


def test_access_overlay_file_uses_free_ports(tmp_path):
    overlay = yaml.safe_load(runfiles.write_access_overlay(PROFILE, NETWORKS, tmp_path).read_text())
    ports = [spec["ports"][0].split(":") for spec in overlay["services"].values()]
    assert all(address == "127.0.0.1" and 0 < int(host) < 65536 for address, host, _ in ports)
