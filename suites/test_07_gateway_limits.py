"""Gateway rate limits: logins and API calls, flooded on every listener, held to the profile's rate and burst."""

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, closing

import pytest
import requests

from infra_conformance.plugins.collection import skip_not_applicable

SLACK_S = 0.5  # from a request's start on an open connection to nginx counting it: its bytes through the engine's proxy


def _flood(listener, rate: int, burst: int, method: str, path: str, headers: dict | None = None,
           body: dict | None = None) -> tuple[list[int], float]:
    """Two waves of requests, one thread each so that a slow API cannot pace them: ``burst + rate + 5`` at once,
    then ``2 * rate`` one second later, when a limit of ``rate`` has let ``rate`` more through (a looser rate lets
    more). Each request claims another client address in X-Forwarded-For and X-Real-IP: a limit keyed on what the
    client says about itself limits nothing. Every connection is open, past its TLS handshake, before the first
    request starts, so the time from a start to nginx counting the request does not grow with the handshakes of a
    loaded machine. Returns the statuses and the seconds from the first start to the last."""
    first, second = burst + rate + 5, 2 * rate
    data = json.dumps(body).encode() if body is not None else None
    starts = []

    def send(index: int, connection) -> int:
        address = f"198.51.100.{index % 250 + 1}"
        claimed = {**(headers or {}), "X-Forwarded-For": address, "X-Real-IP": address,
                   **({"Content-Type": "application/json"} if data is not None else {})}
        starts.append(time.monotonic())
        connection.request(method, path, body=data, headers=claimed)
        return connection.getresponse().status

    with ExitStack() as opened, ThreadPoolExecutor(max_workers=first + second) as pool:
        connections = [opened.enter_context(closing(connection))
                       for connection in pool.map(lambda _: listener.connect(), range(first + second))]
        started = time.monotonic()
        waves = [pool.map(send, range(first), connections[:first])]
        time.sleep(max(0.0, started + 1 - time.monotonic()))
        waves.append(pool.map(send, range(first, first + second), connections[first:]))
        statuses = [status for wave in waves for status in wave]
    return statuses, max(starts) - started


def _limit_held(listener, rate: int, burst: int, what: str, method: str, path: str, **kwargs) -> None:
    """A flood (``_flood``) gets some 429s, and no more requests through than the rate and burst allow by the last
    one's start: a limit ten times looser also answers 429 to a large enough flood. Then waits out the window."""
    statuses, last_start_s = _flood(listener, rate, burst, method, path, **kwargs)
    attempts, accepted = len(statuses), len(statuses) - statuses.count(429)
    assert accepted < attempts, (f"gateway ({listener.name}): expected 429 for some of {attempts} {what} "
                                 f"(rate {rate}/s, burst {burst}), found none: {sorted(set(statuses))}")
    allowed = burst + 1 + math.ceil(rate * (last_start_s + SLACK_S))
    assert accepted <= allowed, (f"gateway ({listener.name}): expected at most {allowed} of {attempts} {what} "
                                 f"accepted within {last_start_s:.1f} s (rate {rate}/s, burst {burst}), found "
                                 f"{accepted}: a looser limit")
    time.sleep(burst / rate + 1)


@pytest.mark.floods  # every other login from this address gets 429 meanwhile
@pytest.mark.control("GW-03", severity="high", claims=["P4", "Z4", "Z10"])
def test_login_rate_limited(stack, gateway_listeners):
    """Login answers 429 past the configured rate and burst, and no sooner than they allow, from one address whatever
    it claims in X-Forwarded-For, and works again after the window, on every listener.

    Rationale: without a limit, the login route is a free password-guessing oracle and
    a cheap way to load bcrypt on a Pi's CPU. A limit looser than the profile's, or one
    keyed on a header the client sets, is as good as none. The attempts are sent from
    loopback in two waves a second apart, one thread each, so a slow API cannot pace
    them below the limit.

    Fix: `limit_req_zone $binary_remote_addr zone=login:10m rate=5r/s;` and `limit_req
    zone=login burst=10 nodelay; limit_req_status 429;` on the login location.

    References: https://nginx.org/en/docs/http/ngx_http_limit_req_module.html; https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/
    """
    api = stack.profile.api
    if not api.login_rate_per_s:
        skip_not_applicable("api.login_rate_per_s", "the profile sets no login_rate_per_s")
    body = {"tenant": api.tenant, "email": api.email, "password": "not-the-password"}
    for listener in gateway_listeners:
        _limit_held(listener, api.login_rate_per_s, api.login_burst, "logins", "POST", api.login_path, body=body)
        after = listener.request("POST", api.login_path, json=body).status_code
        assert after != 429, f"gateway ({listener.name}): expected login accepted again after the window, found {after}"


@pytest.mark.control("GW-05", severity="high", claims=["P4", "Z4", "Z10"])
def test_api_rate_limited(stack, gateway_url, gateway_listeners):
    """The API answers 429 to one token past the configured rate and burst, and no sooner than they allow, whatever
    the client claims in X-Forwarded-For, and works again after the window, on every listener.

    Rationale: a limit on login alone leaves every other route open: one client, or one
    stolen token, can keep a Pi's API and database busy for everyone, and a looser limit
    than the profile's does so too. The requests are sent with a single token in two
    waves a second apart, one thread each, so a slow API cannot pace them.

    Fix: `limit_req_zone $http_authorization zone=api:10m rate=20r/s;` and `limit_req
    zone=api burst=40 nodelay; limit_req_status 429;` on `/api/`.

    References: https://nginx.org/en/docs/http/ngx_http_limit_req_module.html; https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/
    """
    api = stack.profile.api
    if not api.api_rate_per_s:
        skip_not_applicable("api.api_rate_per_s", "the profile sets no api_rate_per_s")
    login = requests.post(gateway_url + api.login_path, timeout=10, json={
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)})
    assert login.status_code == 200, (
        f"POST {api.login_path}: expected 200, found {login.status_code} {login.text[:200]}")
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    for listener in gateway_listeners:
        _limit_held(listener, api.api_rate_per_s, api.api_burst, "requests with one token", "GET", api.probe_path,
                    headers=auth)
        after = listener.request("GET", api.probe_path, headers=auth).status_code
        assert after == 200, (f"gateway ({listener.name}): expected the token accepted again after the window, "
                              f"found {after}")
