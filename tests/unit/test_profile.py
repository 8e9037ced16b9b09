"""The profile schema: the reference profile loads, and each bad key gets one line naming it."""

import copy
import os
import shutil
import tomllib
from pathlib import Path

import pytest

from infra_conformance.errors import UsageProblem as ProfileError
from infra_conformance.measure.budgets import KINDS
from infra_conformance.profile.file import load_profile

COMPOSE = Path(__file__).parents[2] / "compose"


@pytest.fixture
def data():
    return tomllib.loads((COMPOSE / "conformance.toml").read_text())


@pytest.fixture
def parse_profile(tmp_path):
    """Write the data as a profile beside copies of the reference stack's files, and load it."""
    shutil.copytree(COMPOSE, tmp_path / "stack")

    def parse(data, _directory=None):
        import tomli_w

        (tmp_path / "stack" / "conformance.toml").write_bytes(tomli_w.dumps(data).encode())
        return load_profile(tmp_path / "stack")
    return parse


def test_reference_profile_loads():
    profile = load_profile(COMPOSE)
    assert profile.services["gateway"].user == 33
    assert profile.published[0].service == "gateway"
    assert "pg_stat_statements" in profile.postgres.extensions
    assert profile.budgets.startup_s == 30.0
    assert profile.services["gateway"].cannot_reach == ("postgres:5432", "redis:6379")
    assert profile.api.cors_origins == ("https://crm.example.test",) and profile.api.login_burst == 10
    assert profile.postgres.tenants == ("acme", "globex") and profile.postgres.tls
    assert profile.redis.maxmemory_bytes == 64 * 2**20 and profile.redis.maxmemory_policy == "noeviction"
    assert profile.api.tenant_users["globex"] == "conformance.admin@globex.test"


def test_sections_are_optional(data, parse_profile):
    for section in ("postgres", "redis", "api", "ports", "env", "load", "pi"):
        del data[section]
    del data["services"]["postgres-test"]["pg_settings"]  # read as [postgres]'s admin_user
    always = {kind.limit_key for kind in KINDS.values() if not kind.needs}  # memory_mb, for the idle memory too
    for budget in {kind.limit_key for kind in KINDS.values() if kind.needs} - always:  # nothing left to measure them
        del data["budgets"][budget]
    profile = parse_profile(data, COMPOSE)
    assert (profile.postgres, profile.redis, profile.api, profile.published) == (None, None, None, ())


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["services"]["api"].pop("user"), "missing key 'services.api.user'"),
    (lambda d: d["services"]["api"].update(user=0),
     "key 'services.api.user': input should be greater than or equal to 1"),
    (lambda d: d["services"]["api"].update(user="997"), "key 'services.api.user': input should be a valid integer"),
    (lambda d: d["postgres"].update(service="db"), "'postgres.service' names service 'db'"),
    (lambda d: d["redis"].update(password_secret="nope"), "'redis.password_secret' names secret 'nope'"),
    (lambda d: d["budgets"].pop("startup_s"), "missing key 'budgets.startup_s'"),
    (lambda d: d["stack"].update(compose_files=["absent.yaml"]), "absent.yaml', which is not a file"),
    (lambda d: d["postgres"].update(extensions=["pgcrypto", 3]),
     "key 'postgres.extensions[1]': input should be a valid string"),
    (lambda d: d["ports"]["published"][0].pop("port"), "missing key 'ports.published[0].port'"),
    (lambda d: d.pop("services"), "missing key 'services'"),
    (lambda d: d["services"]["gateway"].update(cannot_reach=["vault:1"]),
     "'services.gateway.cannot_reach' names service 'vault'"),
    (lambda d: d["services"]["gateway"].update(cannot_reach=["redis"]), "found 'redis'"),
    (lambda d: d["api"]["tls"].update(port="yes"), "key 'api.tls.port': input should be a valid integer"),
    (lambda d: d["api"]["tls"].update(cert_secret="nope"), "'api.tls.cert_secret' names secret 'nope'"),
    (lambda d: d["load"].update(locustfile="absent.py"), "'load.locustfile' names"),
    (lambda d: d["load"].update(secrets_env={"X": "nope"}), "'load.secrets_env.X' names secret 'nope'"),
    (lambda d: d["load"].pop("users"), "missing key 'load.users'"),
    (lambda d: d["pi"].update(overlay="absent.yaml"), "'pi.overlay' names"),
    (lambda d: d["postgres"].update(app_grants=["SELECT", "ALL"]),
     "key 'postgres.app_grants[1]': input should be 'SELECT'"),
    (lambda d: d["postgres"].update(tenants=["acme"]), "'tenants' must list at least two tenants"),
    (lambda d: d["postgres"].update(tls="on"), "key 'postgres.tls': input should be a valid boolean"),
    (lambda d: d["redis"].update(maxmemory="lots"), "key 'redis.maxmemory': string should match pattern"),
    (lambda d: d["redis"].update(maxmemory_policy="lru"), "key 'redis.maxmemory_policy': input should be 'noeviction'"),
    (lambda d: d["redis"].pop("admin_user"), "'admin_user' and 'admin_password_secret' go together"),
    (lambda d: d["redis"].update(admin_password_secret="nope"), "'redis.admin_password_secret' names secret 'nope'"),
    (lambda d: d["api"].update(tenant_users={"acme": "a@acme.test"}), "'tenant_users' must name a user of at"),
    (lambda d: d["api"]["tenant_users"].update(globex=3),
     "key 'api.tenant_users.globex': input should be a valid string"),
    (lambda d: d["api"].update(resources=["api/clients"]), "key 'api.resources[0]': string should match pattern"),
    (lambda d: d["postgres"].update(tenant_tabels=["x"]),
     "unknown key 'postgres.tenant_tabels' (did you mean 'tenant_tables'?)"),
    (lambda d: d.update(postgress=d.pop("postgres")), "unknown key 'postgress' (did you mean 'postgres'?)"),
    (lambda d: d["api"].update(tsl=True), "unknown key 'api.tsl' (did you mean 'tls'?)"),
    (lambda d: d.update(secrets=["../x"]), "key 'secrets[0]': string should match pattern"),
    (lambda d: d["budgets"].update(api_p95_ms=float("inf")),
     "key 'budgets.api_p95_ms': input should be a finite number"),
    (lambda d: d["load"].update(spawn_rate=0), "key 'load.spawn_rate': input should be greater than 0"),
    (lambda d: d["load"].update(duration_s=-5), "key 'load.duration_s': input should be greater than or equal to 1"),
    (lambda d: d["api"].update(login_burst=2e9), "key 'api.login_burst': input should be a valid integer"),
    (lambda d: d["services"]["gateway"].update(cannot_reach=["postgres:\uff15\uff14\uff13\uff12"]),
     "key 'services.gateway.cannot_reach[0]': string should match pattern"),
    (lambda d: d["stack"].update(compose_files=["../conformance.toml"]), "outside the stack folder"),
])
def test_bad_key_is_named(data, parse_profile, mutate, message):
    broken = copy.deepcopy(data)
    mutate(broken)
    with pytest.raises(ProfileError) as error:
        parse_profile(broken)
    assert message in str(error.value) and "\n" not in str(error.value)


@pytest.mark.parametrize("size, expected", [
    ("64mb", 64 * 2**20), ("64m", 64_000_000), ("1GB", 2**30), ("512kb", 512 * 1024), ("0", 0), ("100", 100)])
def test_redis_sizes_use_redis_units(data, parse_profile, size, expected):
    data["redis"]["maxmemory"] = size.lower()
    assert parse_profile(data).redis.maxmemory_bytes == expected


def test_a_stack_without_an_api_or_a_database_is_asked_for_no_budget_of_theirs(data, parse_profile):
    del data["api"], data["postgres"], data["services"]["postgres-test"]["pg_settings"]
    for budget in ("api_p95_ms", "db_query_p95_ms", "cpu_percent"):
        del data["budgets"][budget]
    profile = parse_profile(data)
    # what each budget's control skips on, as "not applicable (api): ..."; memory_mb stays, for the idle memory
    assert {name: kind.missing(profile) for name, kind in KINDS.items()} == {
        "start-up": None, "idle memory": None, "peak memory under load": "api", "API p95": "api",
        "DB query p95": "postgres", "CPU under load": "api"}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["budgets"].pop("api_p95_ms"),
     "key 'budgets.api_p95_ms' is missing: the profile has [api] and [load], so the API p95 budget applies"),
    (lambda d: d["budgets"].pop("cpu_percent"), "key 'budgets.cpu_percent' is missing: the profile has [api] and"),
    (lambda d: d.pop("api"), "key 'budgets.api_p95_ms' is given, but the profile has no [api]: the API p95 budget "
                             "needs [api] and [load], so nothing would judge it; leave the key out"),
    (lambda d: d["load"].pop("db_queries"), "key 'budgets.db_query_p95_ms' is given, but the profile has no "
                                            "load.db_queries: the DB query p95 budget needs [postgres] and"),
])
def test_a_budget_is_required_with_the_parts_it_measures_and_refused_without(data, parse_profile, mutate, message):
    mutate(data)
    with pytest.raises(ProfileError) as error:
        parse_profile(data)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_profile_set_overrides_keys():
    profile = load_profile(COMPOSE, ["postgres.min_version=16", 'redis.maxmemory="1gb"'])
    assert (profile.postgres.min_version, profile.redis.maxmemory_bytes) == (16, 2**30)


@pytest.mark.parametrize("override, message", [
    ("postgres.min_version=sixteen", "--profile-set 'postgres.min_version=sixteen': the value is not TOML"),
    ("postgres.min_version", "--profile-set 'postgres.min_version': expected KEY=VALUE"),
    ('postgres.min_version="16"', "key 'postgres.min_version': input should be a valid integer"),
    ("stack.name.x=1", "--profile-set 'stack.name.x=1': 'stack.name' is not a table"),
    ("postgres.nosuch=1", "unknown key 'postgres.nosuch'"),
    ("=5", "--profile-set '=5': expected KEY=VALUE"),
    ("extra.key=true", "unknown key 'extra'"),
])
def test_bad_profile_set_is_named(override, message):
    with pytest.raises(ProfileError) as error:
        load_profile(COMPOSE, [override])
    assert message in str(error.value)


def test_missing_file_says_what_to_pass(tmp_path):
    with pytest.raises(ProfileError, match="no such file; --stack-dir must name a folder"):
        load_profile(tmp_path)


def test_invalid_toml_is_one_line(tmp_path):
    (tmp_path / "conformance.toml").write_text("[stack\n")
    with pytest.raises(ProfileError, match="not valid TOML") as error:
        load_profile(tmp_path)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("make, message", [
    (lambda p: p.write_bytes(b"[stack]\nname = '\xff'\n"), "not UTF-8"),
    (lambda p: p.mkdir(), "not a regular file"),
    (lambda p: os.mkfifo(p), "not a regular file"),
])
def test_unreadable_profile_is_one_line(tmp_path, make, message):
    make(tmp_path / "conformance.toml")
    with pytest.raises(ProfileError) as error:
        load_profile(tmp_path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_key_table_in_docs_is_current():
    from infra_conformance.profile.table import current, render

    assert current() == render(), "docs/profile.md is stale: python -m infra_conformance.profile.table"


def test_a_compose_profile_runs_its_own_services_and_those_of_every_profile():
    profile = load_profile(COMPOSE)
    core = ["postgres", "redis", "api", "gateway"]
    assert list(profile.in_compose_profile(None).services) == core
    assert list(profile.in_compose_profile("prod").services) == core
    assert list(profile.in_compose_profile("dev").services) == [*core, "admin"]
    test = profile.in_compose_profile("test")
    assert list(test.services) == [*core, "postgres-test"] and test.compose_profile == "test"
    assert set(test.declared_services) == {*core, "admin", "seed", "postgres-test", "backup"}


def test_a_service_in_an_undeclared_compose_profile_is_one_line(data, parse_profile):
    data["services"]["admin"]["compose_profiles"] = ["staging"]
    with pytest.raises(ProfileError, match="services.admin.compose_profiles' names 'staging'"):
        parse_profile(data)


def test_pg_settings_without_a_postgres_section_is_one_line(data, parse_profile):
    del data["postgres"]
    with pytest.raises(ProfileError, match="services.postgres-test.pg_settings' needs a \\[postgres\\] section"):
        parse_profile(data)
