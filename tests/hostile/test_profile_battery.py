"""Hostile profiles, generated for every key of the reference profile: each ends in one clean line.

Every case is a real ``conformance.toml`` beside a copy of the reference stack, read the
way a run reads it. A case passes when the profile is refused with one printable line
that names the key, or when the key is free text (SQL, a JSON body), which never reaches a command.
"""

from __future__ import annotations

import math
import re
import shutil
import tomllib
from pathlib import Path

import pytest
import tomli_w

from infra_conformance.errors import UsageProblem
from infra_conformance.profile.file import load_profile

COMPOSE = Path(__file__).parents[2] / "compose"
REFERENCE = tomllib.loads((COMPOSE / "conformance.toml").read_text())
# Free text by design, never handed to a command: SQL for PostgreSQL, a JSON body for the API.
FREE_TEXT = ("load.db_setup", "load.db_queries", "api.probe_body.")
# Values of a hostile class that are valid for some keys: (class, keys it is valid for).
VALID = [("traversal", r"^(load\.)?env\."), ("absolute", r"^(load\.)?env\."), ("empty", r"^(load\.)?env\."),  # a path
         ("absolute", r"(\.writable|_paths?|\.resources)$"),  # container paths and URL paths are absolute
         ("absolute", r"^backup\.(directory|backup|verify|restore|confirm|prune)$|^api\.accounts\.(add|remove)$"),
         ("fraction", r"^(budgets\.|faults\.|load\.spawn_rate$)"), ("huge", r"^budgets\."),  # finite and positive
         ("zero", r"^api\.(login|api)_(rate_per_s|burst)$")]  # 0: no rate limit promised
CLEAN_LINE = re.compile(r"^[\x20-\x7e…]{1,600}$")

HOSTILE_TEXT = {
    "metacharacters": "gateway;touch /tmp/pwned;#",
    "substitution": "$(touch /tmp/pwned)",
    "traversal": "../../../etc/passwd",
    "absolute": "/etc/passwd",
    "newline": "x\ninjected=1",
    "escape": "\x1b[31mred\x1b[0m",
    "markup": "<img src=x onerror=alert(1)>",
    "empty": "",
    "long": "a" * 5000,
    "full-width digits": "\uff15\uff14\uff13\uff12",
}
HOSTILE_NUMBERS = {"negative": -1, "zero": 0, "nan": math.nan, "inf": math.inf, "huge": 2**62,
                   "fraction": 0.5}


def leaves(data: dict, prefix: str = ""):
    """(dotted key, value) for every scalar or list in the profile data."""
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from leaves(value, path + ".")
        else:
            yield path, value


def _set(data: dict, dotted: str, value) -> None:
    *tables, name = dotted.split(".")
    for table in tables:
        data = data[table]
    data[name] = value


def cases():
    for key, value in leaves(REFERENCE):
        yield pytest.param(key, {"unknown": True}, id=f"{key}-unknown-sibling")
        kind = "list" if isinstance(value, list) else type(value).__name__
        wrong_types = {"bool": "yes", "int": "1", "float": "1.5", "str": 3, "list": "not-a-list"}
        yield pytest.param(key, {"value": wrong_types.get(kind, [])}, id=f"{key}-wrong-type")
        if kind in ("int", "float"):
            for name, number in HOSTILE_NUMBERS.items():
                yield pytest.param(key, {"value": number, "class": name}, id=f"{key}-{name}")
        if kind == "str" or (kind == "list" and value and isinstance(value[0], str)):
            for name, text in HOSTILE_TEXT.items():
                yield pytest.param(key, {"value": [text] if kind == "list" else text, "class": name},
                                   id=f"{key}-{name}")
    for section in [k for k, v in REFERENCE.items() if isinstance(v, dict)]:
        yield pytest.param(section + "x", {"table": True}, id=f"{section}x-misspelt-section")


def _expected_to_be_accepted(key: str, change: dict) -> bool:
    """Values that are valid on purpose: free SQL text, and values in a key's documented range."""
    if key.startswith(FREE_TEXT) and (change.get("class") in HOSTILE_TEXT or "probe_body" in key):
        return True
    return any(change.get("class") == name and re.search(keys, key) for name, keys in VALID)


@pytest.fixture(scope="module")
def stack_copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile") / "stack"
    shutil.copytree(COMPOSE, folder)
    return folder


@pytest.mark.parametrize("key, change", list(cases()))
def test_hostile_profile_value_ends_in_one_line(stack_copy, key, change):
    data = tomllib.loads(tomli_w.dumps(REFERENCE))
    if change.get("table"):
        data[key] = {"x": 1}
    elif change.get("unknown"):
        _set(data, key.rsplit(".", 1)[0] + ".zz_unknown" if "." in key else "zz_unknown", 1)
    else:
        _set(data, key, change["value"])
    try:
        text = tomli_w.dumps(data)
    except (ValueError, TypeError):
        pytest.skip("TOML cannot carry this value")
    (stack_copy / "conformance.toml").write_text(text)
    try:
        load_profile(stack_copy)
    except UsageProblem as problem:
        line = str(problem)
        assert CLEAN_LINE.match(line), f"not one clean line: {line!r}"
        assert not Path("/tmp/pwned").exists()
        return
    assert _expected_to_be_accepted(key, change), f"{key} accepted a hostile value: {change!r}"


# Cross-field classes: each is valid value by value, and each would switch a control off in silence.
CROSS_FIELD = {
    "duplicate tenants": ("postgres.tenants", ["acme", "acme"], "lists 'acme' more than once"),
    "duplicate platforms": ("stack.platforms", ["linux/amd64", "linux/amd64"], "more than once"),
    "duplicate listen": ("services.api.listen", [8000, 8000], "more than once"),
    "duplicate tenant tables": ("postgres.tenant_tables", ["crm.contacts", "crm.contacts"], "more than once"),
    "duplicate compose profiles": ("compose_profiles", ["dev", "dev", "prod", "test", "tools"], "more than once"),
    "duplicate roles of a method": ("api.method_roles.DELETE", ["admin", "admin"], "more than once"),
    "empty platforms": ("stack.platforms", [], "empty list"),
    "empty db_queries": ("load.db_queries", [], "empty list"),
    "empty cannot_reach": ("services.gateway.cannot_reach", [], "empty list"),
    "empty tenants": ("postgres.tenants", [], "empty list"),
    "unknown role": ("api.method_roles.DELETE", ["nosuchrole"], "names role 'nosuchrole'"),
    "reserved SECRETS_DIR": ("env.SECRETS_DIR", "/etc", "the suite sets SECRETS_DIR itself"),
    "reserved CONFORMANCE_": ("env.CONFORMANCE_IMAGE_TAG", "x", "the suite sets CONFORMANCE_IMAGE_TAG itself"),
    "reserved COMPOSE_": ("env.COMPOSE_PROFILES", "dev", "itself"),
    "reserved DOCKER_": ("env.DOCKER_HOST", "tcp://x", "itself"),
    "unknown service": ("ports.published", [{"service": "nosuch", "port": 1}], "names service 'nosuch'"),
    "unknown secret": ("postgres.app_password_secret", "nosuch", "names secret 'nosuch'"),
    "unknown compose profile": ("services.admin.compose_profiles", ["staging"], "names 'staging'"),
}


@pytest.mark.parametrize("key, value, said", CROSS_FIELD.values(), ids=CROSS_FIELD.keys())
def test_a_profile_cannot_weaken_a_control_in_silence(stack_copy, key, value, said):
    data = tomllib.loads(tomli_w.dumps(REFERENCE))
    _set(data, key, value)
    (stack_copy / "conformance.toml").write_text(tomli_w.dumps(data))
    with pytest.raises(UsageProblem) as raised:
        load_profile(stack_copy)
    assert said in str(raised.value) and CLEAN_LINE.match(str(raised.value)), str(raised.value)


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deep_nesting_is_one_line(stack_copy, depth):
    (stack_copy / "conformance.toml").write_text("x = " + "[" * depth + "]" * depth + "\n"
                                                 + tomli_w.dumps(REFERENCE))
    with pytest.raises(UsageProblem) as raised:
        load_profile(stack_copy)
    assert "nested too deep" in str(raised.value)
