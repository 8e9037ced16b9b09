"""Parametrize controls over what the profile lists: one result per service, table, tenant, extension.

A control that asks for ``service`` gets one case per service of every compose profile, one-off jobs included
(judged on their configuration where they do not run); marked ``running``, one per service that the booted compose
profile runs. A control that asks for ``compose_profile``, ``ephemeral_service``,
``json_log_service``, ``tenant_table``, ``tenant``, ``table``, ``schema``, ``enum``,
``extension``, ``api_tenant``, ``resource``, ``reach`` (a service and a ``target:port``
it must not reach), ``role_method`` (a role of ``role_users`` and a method of
``method_roles``), ``security_header`` or ``static_path`` gets one case per item. When
the profile lists none, it gets a single case that skips with the reason: not applicable, naming the key, when the
profile says the stack has no such part.
"""

from __future__ import annotations

import pytest

from infra_conformance.plugins.options import PROFILE_KEY
from infra_conformance.profile.schema import Profile
from infra_conformance.report.summary import not_applicable


def _listed(section, name: str, values, what: str) -> tuple[list, str]:
    """``values`` of a profile section, and why there are none: the key that says the stack has no such part."""
    if section is None:
        return [], not_applicable(name, f"the profile has no [{name}] section")
    return list(values), not_applicable(f"{name}.{what.split()[0]}", f"the profile lists no {what}")


def _targets(profile: Profile) -> dict[str, tuple[list, str]]:
    pg, api = profile.postgres, profile.api
    reach = [pytest.param((name, *target.split(":")), id=f"{name}->{target}")
             for name, s in profile.services.items() for target in s.cannot_reach]
    resources = [pytest.param(path, id=path.rstrip("/").rsplit("/", 1)[-1]) for path in (api.resources if api else ())]
    return {
        "reach": (reach, not_applicable("services.*.cannot_reach", "the profile lists no cannot_reach for any "
                                        "service")),
        "security_header": (security_headers(api) if api else [], not_applicable("api", "the profile has no [api] "
                                                                                  "section")),
        "static_path": _listed(api, "api", api and api.static_paths, "static_paths"),
        "service": (list(profile.services), not_applicable("services", "the profile lists no services")),
        "compose_profile": (list(profile.compose_profiles), not_applicable("compose_profiles", "the profile names no "
                                                                           "compose_profiles")),
        "ephemeral_service": ([name for name, s in profile.every_service.items() if s.ephemeral],
                              not_applicable("services.*.ephemeral", "the profile promises no ephemeral service")),
        "json_log_service": ([name for name, s in profile.services.items() if s.json_logs],
                             not_applicable("services.*.json_logs", "the profile promises JSON logs for no service")),
        "extension": _listed(pg, "postgres", pg and pg.extensions, "extensions (none required)"),
        "tenant_table": _listed(pg, "postgres", pg and pg.tenant_tables, "tenant tables"),
        "tenant": _listed(pg, "postgres", pg and pg.tenants, "tenants"),
        "table": _listed(pg, "postgres", pg and pg.tables, "tables"),
        "schema": _listed(pg, "postgres", pg and pg.schemas, "schemas"),
        "enum": _listed(pg, "postgres", pg and pg.enums, "enums"),
        "resource": _listed(api, "api", resources, "resources"),
        "api_tenant": _listed(api, "api", api and api.tenant_users, "tenant_users"),
        "role_method": _listed(api, "api", _role_methods(api), "method_roles and role_users"),
    }


def security_headers(api) -> list[str]:
    """The headers every gateway response must carry (HSTS, over TLS only, is GW-07's)."""
    return ["X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy"]


def _role_methods(api) -> list:
    """(role, method) for each user of ``role_users`` and each method of ``method_roles``."""
    if api is None:
        return []
    return [pytest.param((role, method), id=f"{role}-{method}") for role in api.role_users
            for method in api.method_roles]


def pytest_generate_tests(metafunc):
    profile = metafunc.config.stash[PROFILE_KEY]
    targets = _targets(profile)
    if not metafunc.definition.get_closest_marker("running"):  # configuration: every service, in every profile
        targets["service"] = (list(profile.every_service), targets["service"][1])
    for name, (values, reason) in targets.items():
        if name in metafunc.fixturenames:
            if values:
                metafunc.parametrize(name, values)
            else:
                metafunc.parametrize(name, [pytest.param(None, marks=pytest.mark.skip(reason=reason))],
                                     ids=["none"])
