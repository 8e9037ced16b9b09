"""Tenant isolation through the API: another tenant's objects are not found, and no list shares an object."""

import pytest


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

    Covers: GET only: not yet writes across tenants.

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
