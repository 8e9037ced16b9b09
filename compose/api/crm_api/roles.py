"""Which roles may use which method on the resource routes (/api/<name>)."""

STAFF = frozenset({"admin", "employee"})
EVERYONE = STAFF | {"client", "supplier", "professional"}

# Clients, suppliers and professionals are outside parties with a login: they read their
# tenant's records but never change them. Staff create, update and delete.
# Mirrors docs/reference-stack.md and [api].method_roles in compose/conformance.toml.
METHOD_ROLES = {"GET": EVERYONE, "POST": STAFF, "PATCH": STAFF, "DELETE": STAFF}


def allowed(role: str, method: str) -> bool:
    """Whether `role` may send `method` to a resource route; unknown methods and roles may not.

    >>> allowed("client", "GET"), allowed("client", "DELETE")
    (True, False)
    """
    return role in METHOD_ROLES.get(method, ())
