"""API and gateway: the documented flows work through the gateway."""

import pytest


@pytest.mark.control("API-01", severity="high", claims=["N6", "Z10"])
def test_login_and_authenticated_request(stack, gateway_url, http):
    """A user logs in through the gateway and makes an authenticated request.

    Rationale: the gateway and the API are only useful together; a route missing from
    the gateway, a broken session store or a token the API cannot verify all leave a
    stack that is healthy on paper and unusable in practice.
    """
    api = stack.profile.api
    login = http.post(gateway_url + api.login_path, json={
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)})
    assert login.status_code == 200, (
        f"POST {api.login_path}: expected 200 with a token, found {login.status_code} {login.text[:200]}")
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

    me = http.get(gateway_url + api.me_path, headers=auth)
    assert me.status_code == 200, f"GET {api.me_path}: expected 200, found {me.status_code} {me.text[:200]}"
    assert me.json().get("email") == api.email, f"GET {api.me_path}: expected {api.email}, found {me.text[:200]}"

    probe = http.get(gateway_url + api.probe_path, headers=auth)
    assert probe.status_code == 200, (
        f"GET {api.probe_path} with a token: expected 200, found {probe.status_code} {probe.text[:200]}")
    anonymous = http.get(gateway_url + api.probe_path)
    assert anonymous.status_code == 401, (
        f"GET {api.probe_path} without a token: expected 401, found {anonymous.status_code}")
