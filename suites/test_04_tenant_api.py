"""Tenant isolation through the API: another tenant's objects are not found, changed or deleted, and no list shares
an object."""

import pytest

from infra_conformance.plugins.http_clients import unlimited


@pytest.fixture
def other_api_tenant(stack, api_tenant) -> str:
    tenants = list(stack.profile.api.tenant_users)
    return tenants[(tenants.index(api_tenant) + 1) % len(tenants)]


def _listed_ids(http, url: str, token: str) -> list[str]:
    """The ids in the first page of a resource's list (``{"items": [...]}`` or a plain list)."""
    response = http.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, f"GET {url}: expected 200, found {response.status_code} {response.text[:200]}"
    body = response.json()
    return [item["id"] for item in (body["items"] if isinstance(body, dict) else body)]


def _some(ids) -> str:
    ids = sorted(ids)
    return ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


@pytest.mark.control("RLS-10", severity="critical", claims=["Z1", "P1", "Z10"])
def test_api_other_tenants_object_not_found(gateway_url, http, api_token, resource, api_tenant, other_api_tenant):
    """Through the API, a user of one tenant gets 404 for each object id another tenant lists.

    Rationale: the database's isolation only counts if the API keeps it: a cache,
    a second connection as the owner or a query outside the tenant's transaction
    would reopen what RLS closes. 404, not 403, also hides that the id exists.

    Covers: GET of each listed object; writes are RLS-16's.

    Fix: Look objects up in the tenant's transaction (RLS) and answer 404 when the row
    is not visible.

    References: https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    theirs = _listed_ids(http, gateway_url + resource, api_token(other_api_tenant))
    assert theirs, f"{resource}: expected objects of tenant {other_api_tenant} to test with, found none"
    auth = {"Authorization": f"Bearer {api_token(api_tenant)}"}
    found = {i for i in theirs if http.get(f"{gateway_url}{resource}/{i}", headers=auth).status_code != 404}
    assert not found, (f"GET {resource}/<id> as tenant {api_tenant}: expected 404 for the objects tenant "
                       f"{other_api_tenant} lists, found {len(found)} of {len(theirs)} answered: {_some(found)}")


@pytest.mark.control("RLS-11", severity="critical", claims=["Z1", "P1", "Z10"])
def test_api_lists_share_no_object(gateway_url, http, api_token, resource, api_tenant, other_api_tenant):
    """Through the API, no object appears in the lists of two tenants.

    Rationale: lists are where leaks are largest: one request returns many rows, and
    a leak there shows other customers' data to every user of a tenant. An object
    belongs to one tenant, so one listed for both has leaked to one of them.

    Fix: Scope every list query to the caller's tenant; never cache lists across
    tenants.

    References: https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    theirs = set(_listed_ids(http, gateway_url + resource, api_token(other_api_tenant)))
    assert theirs, f"{resource}: expected objects of tenant {other_api_tenant} to test with, found none"
    shared = theirs & set(_listed_ids(http, gateway_url + resource, api_token(api_tenant)))
    assert not shared, (f"GET {resource} as tenants {api_tenant} and {other_api_tenant}: expected no object in both "
                        f"lists, found {len(shared)}: {_some(shared)}")


SERVER_SET = ("id", "created_at", "updated_at")  # an object's fields that the server sets, never the client


def _send(http, method: str, url: str, token: str, body: dict | None = None):
    """One request with the token, once the gateway lets it through (``unlimited``)."""
    auth = {"Authorization": f"Bearer {token}"}
    return unlimited(lambda: http.request(method, url, json=body, headers=auth), f"{method} {url}")


@pytest.fixture
def their_copy(gateway_url, http, api_token, resource, other_api_tenant):
    """(URL, object, body) of a copy of one of the other tenant's objects, created by that tenant for the case from
    the fields of the first object it lists, and deleted after: the writes tried on it touch no row of the stack."""
    token = api_token(other_api_tenant)
    listed = _send(http, "GET", gateway_url + resource, token)
    body = listed.json() if listed.status_code == 200 else None
    items = body["items"] if isinstance(body, dict) else body
    if not items:
        pytest.fail(f"{resource}: expected objects of tenant {other_api_tenant} to copy, found "
                    f"{listed.status_code} {listed.text[:200]}")
    fields = {k: v for k, v in items[0].items() if k not in SERVER_SET and v is not None}
    created = _send(http, "POST", gateway_url + resource, token, fields)
    if created.status_code not in (200, 201):
        pytest.skip(f"not checked: {resource}: tenant {other_api_tenant} could not create a copy of its object "
                    f"{items[0].get('id')} to write to ({created.status_code} {created.text[:200]})")
    url = f"{gateway_url}{resource}/{created.json()['id']}"
    yield url, created.json(), fields
    _send(http, "DELETE", url, token)


@pytest.mark.control("RLS-16", severity="critical", claims=["Z1", "P1", "Z10"])
def test_api_other_tenants_object_not_written(gateway_url, http, api_token, resource, api_tenant, other_api_tenant,
                                              their_copy):
    """Through the API, a user of one tenant cannot change or delete another tenant's object: 404, and it is unchanged.

    Rationale: an API whose reads are scoped to the tenant can still write past it: an
    update or delete by id that runs outside the tenant's transaction, through a
    SECURITY DEFINER helper, or on a second connection as the owner lets one customer
    rewrite or destroy another's records without ever seeing them. The case writes to a
    copy of one of the other tenant's objects, made by that tenant for the case:
    PATCH with the object's own fields and DELETE must both answer 404, and the other
    tenant must then find the object there, with the same fields and updated_at.

    Covers: every API resource; PATCH and DELETE of an object of each other tenant.

    Fix: Run every update and delete in the caller's tenant-scoped transaction, as the
    reads do, and answer 404 when no row was visible.

    References: https://owasp.org/API-Security/editions/2023/en/0xa1-broken-object-level-authorization/
    """
    url, before, fields = their_copy
    path, token = url.removeprefix(gateway_url), api_token(api_tenant)
    written = {method: _send(http, method, url, token, fields if method == "PATCH" else None).status_code
               for method in ("PATCH", "DELETE")}
    after = _send(http, "GET", url, api_token(other_api_tenant))
    found = [f"{method} {status}" for method, status in written.items() if status != 404]
    if after.status_code != 200:
        found.append(f"the object gone for tenant {other_api_tenant} ({after.status_code})")
    elif after.json() != before:
        changed = sorted(k for k in {*before, *after.json()} if before.get(k) != after.json().get(k))
        found.append(f"the object changed for tenant {other_api_tenant} ({', '.join(changed)})")
    assert not found, (f"{path} of tenant {other_api_tenant} as tenant {api_tenant}: expected 404 to PATCH and DELETE "
                       f"and the object unchanged, found {'; '.join(found)}")
