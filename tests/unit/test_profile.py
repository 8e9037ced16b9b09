"""The profile parser: the reference profile loads, and each bad key gets a message naming it."""

import copy
import tomllib
from pathlib import Path

import pytest

from fixtures.profile import ProfileError, load_profile, parse_profile

COMPOSE = Path(__file__).parents[2] / "compose"


@pytest.fixture
def data():
    return tomllib.loads((COMPOSE / "conformance.toml").read_text())


def test_reference_profile_loads():
    profile = load_profile(COMPOSE)
    assert profile.services["gateway"].user == 33
    assert profile.published[0].service == "gateway"
    assert "pg_stat_statements" in profile.postgres.extensions
    assert profile.budgets.startup_s == 30.0
    assert profile.services["gateway"].cannot_reach == ("postgres:5432", "redis:6379")
    assert profile.api.cors_origins == ("https://crm.example.test",) and profile.api.login_burst == 10
    assert profile.postgres.tenants == ("acme", "globex") and profile.postgres.tls
    assert profile.redis.maxmemory == 64 * 2**20 and profile.redis.maxmemory_policy == "noeviction"
    assert profile.api.tenant_users["globex"] == "admin@globex.test"


def test_sections_are_optional(data):
    for section in ("postgres", "redis", "api", "ports", "env", "load", "pi"):
        del data[section]
    profile = parse_profile(data, COMPOSE)
    assert (profile.postgres, profile.redis, profile.api, profile.published) == (None, None, None, ())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["services"]["api"].pop("user"), "missing key 'services.api.user'"),
    (lambda d: d["services"]["api"].update(user=0), "'services.api.user' is 0"),
    (lambda d: d["services"]["api"].update(user="997"), "'services.api.user' must be int, not str"),
    (lambda d: d["postgres"].update(service="db"), "'postgres.service' names service 'db'"),
    (lambda d: d["redis"].update(password_secret="nope"), "'redis.password_secret' names secret 'nope'"),
    (lambda d: d["budgets"].pop("startup_s"), "missing key 'budgets.startup_s'"),
    (lambda d: d["stack"].update(compose_files=["absent.yaml"]), "absent.yaml, which does not exist"),
    (lambda d: d["postgres"].update(extensions=["pgcrypto", 3]), "'postgres.extensions[1]' must be str"),
    (lambda d: d["ports"]["published"][0].pop("port"), "missing key 'ports.published[0].port'"),
    (lambda d: d.pop("services"), "missing key 'services'"),
    (lambda d: d["services"]["gateway"].update(cannot_reach=["vault:1"]), "'services.gateway.cannot_reach[0]' must be"),
    (lambda d: d["services"]["gateway"].update(cannot_reach=["redis"]), "not 'redis'"),
    (lambda d: d["api"].update(tls="yes"), "'api.tls' must be bool, not str"),
    (lambda d: d["load"].update(locustfile="absent.py"), "'load.locustfile' names"),
    (lambda d: d["load"].update(secrets_env={"X": "nope"}), "'load.secrets_env.X' names secret 'nope'"),
    (lambda d: d["load"].pop("users"), "missing key 'load.users'"),
    (lambda d: d["pi"].update(overlay="absent.yaml"), "'pi.overlay' names"),
    (lambda d: d["postgres"].update(app_grants=["SELECT", "ALL"]), "'postgres.app_grants[1]' must be one of SELECT"),
    (lambda d: d["postgres"].update(tenants=["acme"]), "'postgres.tenants' must list at least two tenants"),
    (lambda d: d["postgres"].update(tls="on"), "'postgres.tls' must be bool, not str"),
    (lambda d: d["redis"].update(maxmemory="lots"), "'redis.maxmemory' must be a size such as '64mb', not 'lots'"),
    (lambda d: d["redis"].update(maxmemory_policy="lru"), "'redis.maxmemory_policy' must be one of noeviction"),
    (lambda d: d["redis"].pop("admin_user"), "missing key 'redis.admin_user'"),
    (lambda d: d["redis"].update(admin_password_secret="nope"), "'redis.admin_password_secret' names secret 'nope'"),
    (lambda d: d["api"].update(tenant_users={"acme": "a@acme.test"}), "'api.tenant_users' must name a user of at"),
    (lambda d: d["api"]["tenant_users"].update(globex=3), "'api.tenant_users.globex' must be str, not int"),
    (lambda d: d["api"].update(resources=["api/clients"]), "'api.resources[0]' must be a path starting with /"),
])
def test_bad_key_is_named(data, mutate, message):
    broken = copy.deepcopy(data)
    mutate(broken)
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_profile(broken, COMPOSE)


@pytest.mark.parametrize("size, expected", [
    ("64mb", 64 * 2**20), ("64m", 64_000_000), ("1GB", 2**30), ("512kb", 512 * 1024), ("0", 0), ("100", 100)])
def test_redis_sizes_use_redis_units(data, size, expected):
    data["redis"]["maxmemory"] = size
    assert parse_profile(data, COMPOSE).redis.maxmemory == expected


def test_profile_set_overrides_keys():
    profile = load_profile(COMPOSE, ["postgres.min_version=16", 'redis.maxmemory="1gb"', "extra.key=true"])
    assert (profile.postgres.min_version, profile.redis.maxmemory) == (16, 2**30)


@pytest.mark.parametrize("override, message", [
    ("postgres.min_version=sixteen", "--profile-set postgres.min_version=sixteen: expected KEY=VALUE"),
    ("postgres.min_version", "--profile-set postgres.min_version: expected KEY=VALUE"),
    ('postgres.min_version="16"', "'postgres.min_version' must be int, not str"),
    ("stack.name.x=1", "--profile-set stack.name.x=1: 'name' is not a table"),
])
def test_bad_profile_set_is_named(override, message):
    with pytest.raises(ProfileError, match=message):
        load_profile(COMPOSE, [override])


def test_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(ProfileError, match="no such file; --stack-dir must name a folder"):
        load_profile(tmp_path)


def test_invalid_toml_is_one_line(tmp_path):
    (tmp_path / "conformance.toml").write_text("[stack\n")
    with pytest.raises(ProfileError, match="not valid TOML") as error:
        load_profile(tmp_path)
    assert "\n" not in str(error.value)
