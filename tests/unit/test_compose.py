"""Compose command lines and per-run files, checked the way pytest-docker checks its own."""

import stat
import subprocess
from pathlib import Path
from unittest import mock

import yaml
from pytest_docker.plugin import DockerComposeExecutor

from fixtures import compose
from fixtures.profile import load_profile

PROFILE = load_profile(Path(__file__).parents[2] / "compose")


def test_project_names_are_unique_and_prefixed():
    names = {compose.project_name() for _ in range(50)}
    assert len(names) == 50
    assert all(n.startswith("conformance-") and len(n) == 20 for n in names)


def test_setup_validates_builds_then_waits_with_a_deadline():
    assert compose.setup_commands(90) == [
        "config --quiet", "build --quiet", "up --detach --no-build --wait --wait-timeout 90"]


def test_cleanup_removes_volumes_and_orphans():
    assert compose.cleanup_commands() == ["down --volumes --remove-orphans --timeout 10"]


def test_exact_command_line(tmp_path):
    env = tmp_path / "compose.env"
    executor = DockerComposeExecutor(compose.compose_command(env), ["a.yaml", "b.yaml"], "conformance-1")
    with mock.patch("subprocess.check_output") as check_output:
        check_output.return_value = b""
        executor.execute(compose.cleanup_commands()[0])
    check_output.assert_called_once_with(
        f'docker compose --env-file {env} -f "a.yaml" -f "b.yaml" -p "conformance-1" '
        "down --volumes --remove-orphans --timeout 10", stderr=subprocess.STDOUT, shell=True)


def test_secrets_are_random_private_and_unterminated(tmp_path):
    folder = compose.write_secrets(PROFILE, tmp_path)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    values = {name: (folder / name).read_text() for name in PROFILE.secrets}
    assert len(set(values.values())) == len(PROFILE.secrets)
    assert all(len(v) >= 32 and not v.endswith("\n") for v in values.values())
    again = tmp_path / "again"
    again.mkdir()
    assert compose.write_secrets(PROFILE, again).joinpath("jwt_secret").read_text() != values["jwt_secret"]


def test_env_file_carries_secrets_dir_and_profile_env(tmp_path):
    path = compose.write_env_file(PROFILE, tmp_path / "s", tmp_path)
    assert path.read_text().splitlines() == [f"SECRETS_DIR={tmp_path / 's'}", "GATEWAY_PORT=0"]


def test_access_overlay_publishes_data_services_on_fixed_loopback_ports():
    ports = iter([40001, 40002])
    assert compose.access_overlay(PROFILE, choose_port=lambda: next(ports))["services"] == {
        "postgres": {"ports": ["127.0.0.1:40001:5432"], "networks": [compose.ACCESS_NETWORK]},
        "redis": {"ports": ["127.0.0.1:40002:6379"], "networks": [compose.ACCESS_NETWORK]},
    }


def test_access_overlay_file_uses_free_ports(tmp_path):
    overlay = yaml.safe_load(compose.write_access_overlay(PROFILE, tmp_path).read_text())
    ports = [spec["ports"][0].split(":") for spec in overlay["services"].values()]
    assert all(address == "127.0.0.1" and 0 < int(host) < 65536 for address, host, _ in ports)


def test_compose_error_is_composes_last_line():
    error = Exception('Command docker compose up returned 1: """ Container x  Started\n'
                      'Error: port is already allocated\n""".')
    assert compose.compose_error(error) == "Error: port is already allocated"
