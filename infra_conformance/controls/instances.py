"""What each control covers: the instances its cases range over, named from its arguments and its ``Covers:``.

A control's cases come from its arguments (one case per service, per tenant table, per gateway listener...); what
it loops over inside a case is said in its docstring's ``Covers:`` paragraph. Every argument a control takes is
either an instance here or a tool in ``TOOLS``; tests/unit/test_registries.py fails on one that is neither.
"""

from __future__ import annotations

SERVICES = "every service the profile lists, in every compose profile"
LISTENERS = "every gateway listener (plain, and TLS with [api.tls])"
TENANTS = "every tenant"
INSTANCES = {
    "service": SERVICES, "container": SERVICES,
    "reach": "every cannot_reach target of every service",
    "security_header": "every security header",
    "static_path": "every static path the profile lists",
    "compose_profile": "every compose profile",
    "ephemeral_service": "every ephemeral service",
    "json_log_service": "every service that promises JSON logs",
    "extension": "every required extension",
    "tenant_table": "every tenant table",
    "tenant": TENANTS, "tenant_ids": TENANTS,
    "table": "every table the profile lists",
    "schema": "every schema the profile lists",
    "enum": "every enum the profile lists",
    "resource": "every API resource",
    "api_tenant": "every tenant with API users",
    "role_method": "every role and every method",
    "gateway_listeners": LISTENERS, "gateway_response": LISTENERS,
    "tenant_relations": "every relation that holds tenant rows",
    "tenant_paths": "every relation that reaches tenant rows without the tenant column",
    "route": "every body-taking route (login, create, update)",
    "malformed": "every kind of malformed body",
    "forgery": "every kind of forged token",
    "attribute": "every forbidden role attribute and built-in role",
    "command": "every dangerous Redis command",
    "setting": "every Redis memory setting",
    "change": "every kind of cross-tenant change",
    "write": "a row inserted for, and a row moved to, the other tenant",
    "damage": "every kind of damaged backup",
}
# Arguments that are how a control reaches the stack, not what it ranges over.
TOOLS = {"stack", "request", "record_property", "record_budget", "http", "gateway_url", "inspector",
         "inspectors", "engine_limits_swap", "engine_security", "pg_admin", "pg_app", "pg_app_params", "checksums_now",
         "redis_admin", "redis_connect", "redis_client", "api_login", "api_token", "login", "tokens", "other_tenant",
         "other_api_tenant", "their_copy", "planted", "backups", "first_backup", "load_run", "measuring",
         "emulation_plan"}
WHOLE = "the stack as a whole"


def covered(arguments: tuple[str, ...], covers: str = "") -> list[str]:
    """What a control covers: its arguments' instances, then its ``Covers:`` text; else the stack as a whole.

    >>> covered(("stack", "container", "service"), "every place a credential can be")
    ['every service the profile lists, in every compose profile', 'every place a credential can be']
    >>> covered(("stack",))
    ['the stack as a whole']
    """
    found = list(dict.fromkeys(INSTANCES[a] for a in arguments if a in INSTANCES))
    return found + ([covers] if covers else []) or [WHOLE]
