"""Stacks that keep a promise in another way are not failed: settings named like secrets, client UDP sockets, and
UIDs under user-namespace remapping."""

import pytest

from infra_conformance.engine.userns import inside_uid
from infra_conformance.probes.credentials import credential_variables
from infra_conformance.probes.sockets import listening_ports

EPHEMERAL = range(32768, 61000)


@pytest.mark.parametrize("entry", ["TOKEN_TTL_S=3600", "SECRETS_DIR=/run/secrets", "PASSWORD_MIN_LENGTH=12",
                                   "API_KEY_FILE=/run/secrets/api_key", "REQUIRE_TOKEN=true", "JWT_SECRET=",
                                   "SESSION_TOKEN_LIFETIME=15m"])
def test_a_setting_about_secrets_is_not_a_secret(entry):
    assert credential_variables([entry]) == []


@pytest.mark.parametrize("entry", ["DB_PASSWORD=hunter2", "JWT_SECRET=c2VjcmV0LWtleQ", "API_KEY=ak_live_1234",
                                   "REDIS_PASSWORD=1234567890abcdef", "GITHUB_TOKEN=ghp_abc123"])
def test_a_secret_in_the_environment_is_named(entry):
    assert credential_variables([entry]) == [entry.partition("=")[0]]


def test_a_udp_client_socket_is_no_listener_but_a_udp_server_is():
    assert listening_ports(["udp://0.0.0.0:45678", "udp://10.0.0.5:33001"], EPHEMERAL) == set()
    assert listening_ports(["udp://0.0.0.0:514", "tcp://0.0.0.0:45678"], EPHEMERAL) == {514, 45678}


def test_host_uids_under_remapping_are_read_as_the_container_sees_them():
    uid_map = "         0     165536      65536\n"
    assert inside_uid(165536 + 999, uid_map) == 999
    assert inside_uid(165536, uid_map) == 0  # root inside is still root: CTR-01 fails it
    assert inside_uid(999, uid_map) is None  # a host UID outside the map: never the profile's
