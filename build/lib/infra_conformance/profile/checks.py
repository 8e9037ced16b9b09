"""Rules across a profile's values, beyond each value's type: nothing in a profile may switch a control off in silence.

A list that must be unique is; a list given empty where that would make a control a no-op is refused; every role
that one key names exists in another; a budget's limit is required where the stack has the parts it measures, and
refused where it has not; and no ``[env]`` variable may override one the suite sets itself.
"""

from __future__ import annotations

from infra_conformance.errors import printable
from infra_conformance.measure.budgets import KINDS, written
from infra_conformance.profile.schema import Profile

RESERVED_ENV = ("SECRETS_DIR", "CONFORMANCE_", "COMPOSE_", "DOCKER_")  # names, or prefixes ending in _


# Lists whose controls iterate over them and would check nothing if the file gave them empty.
NO_OP_WHEN_EMPTY = {"platforms", "cannot_reach", "tenants", "db_queries"}  # cors_origins = []: no origin at all


def _lists(profile: Profile) -> list[tuple[str, object, str]]:
    """(key, model, field) of every list that a control iterates over."""
    pg, api, load = profile.postgres, profile.api, profile.load
    found = [("compose_profiles", profile, "compose_profiles"), ("secrets", profile, "secrets"),
             ("stack.platforms", profile.stack, "platforms")]
    found += [(f"services.{name}.{key}", service, key) for name, service in profile.every_service.items()
              for key in ("listen", "writable", "cannot_reach", "cap_add", "compose_profiles")]
    found += [(f"postgres.{key}", pg, key) for key in ("tenants", "tenant_tables", "extensions", "schemas", "tables",
                                                       "enums", "definer_routines", "app_grants")] if pg else []
    found += [(f"api.{key}", api, key) for key in ("cors_origins", "resources", "static_paths")] if api else []
    found += [("load.db_queries", load, "db_queries")] if load else []
    return found


def problems(profile: Profile) -> list[str]:
    """Each rule the profile breaks, as one line that names the key; none for a good profile.

    >>> from infra_conformance.profile.file import load_profile
    >>> from pathlib import Path
    >>> problems(load_profile(Path("compose")))
    []
    """
    found = []
    lists = [(key, getattr(model, field) or (), field in NO_OP_WHEN_EMPTY and field in model.model_fields_set)
             for key, model, field in _lists(profile)]
    lists += [(f"api.method_roles.{method}", roles, False) for method, roles in
              (profile.api.method_roles.items() if profile.api else ())]
    for key, values, given_empty_is_no_op in lists:
        if duplicates := sorted({v for v in values if list(values).count(v) > 1}, key=str):
            found.append(f"key '{key}' lists {printable(duplicates[0])} more than once")
        if given_empty_is_no_op and not values:
            found.append(f"key '{key}' is an empty list, which would leave its control nothing to check; "
                         "leave the key out when the stack promises nothing there")
    if profile.api:
        for method, roles in profile.api.method_roles.items():
            for role in sorted(set(roles) - set(profile.api.role_users)):
                found.append(f"key 'api.method_roles.{method}' names role {printable(role)}, which is not in "
                             "'api.role_users'")
    found += _budget_problems(profile)
    for name in profile.env:
        if name == RESERVED_ENV[0] or name.startswith(RESERVED_ENV[1:]):
            found.append(f"key 'env.{name}': the suite sets {name} itself (SECRETS_DIR, CONFORMANCE_*, COMPOSE_* "
                         "and DOCKER_* are its own)")
    return found


def _budget_problems(profile: Profile) -> list[str]:
    """A budget's limit is required where one of its kinds applies, and refused where none does."""
    found = []
    for key in dict.fromkeys(kind.limit_key for kind in KINDS.values()):
        kinds = [kind for kind in KINDS.values() if kind.limit_key == key]
        applying = [kind for kind in kinds if kind.missing(profile) is None]
        given = getattr(profile.budgets, key) is not None
        if applying and not given:
            found.append(f"key 'budgets.{key}' is missing: the profile has {applying[0].parts}, so the "
                         f"{applying[0].name} budget applies")
        elif given and not applying:
            found.append(f"key 'budgets.{key}' is given, but the profile has no {written(kinds[0].missing(profile))}: "
                         f"the {kinds[0].name} budget needs {kinds[0].parts}, so nothing would judge it; leave the "
                         "key out")
    return found
