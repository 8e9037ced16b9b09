"""API and gateway: the documented flows work through the gateway."""

import json
import re
import uuid

import pytest

from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.http_clients import unlimited


@pytest.mark.control("API-01", severity="high", claims=["N6", "Z10"])
def test_login_and_authenticated_request(stack, gateway_url, http):
    """A user logs in through the gateway and makes an authenticated request.

    Rationale: the gateway and the API are only useful together; a route missing from
    the gateway, a broken session store or a token the API cannot verify all leave a
    stack that is healthy on paper and unusable in practice.

    Fix: Route the login and API paths through the gateway (`location /auth/ {
    proxy_pass http://api:8000; }`) and check the API's logs.

    References: https://nginx.org/en/docs/http/ngx_http_proxy_module.html
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


@pytest.fixture(scope="module")
def login(api_login):
    """``login(email)``: the Authorization header of the profile tenant's user ``email``."""
    return lambda email: {"Authorization": f"Bearer {api_login(email)}"}


def _create(http, url: str, body: dict, auth: dict) -> str:
    """POST ``body`` to ``url``; the new row's URL."""
    created = unlimited(lambda: http.post(url, json=body, headers=auth), f"POST {url}")
    assert created.status_code in (200, 201), (
        f"POST {url} with probe_body: expected 201 with an id, found {created.status_code} {created.text[:200]}")
    return f"{url}/{created.json()['id']}"


@pytest.fixture
def probe_row(stack, gateway_url, http, login):
    """The URL of a fresh row at probe_path, created from probe_body by the profile's user and deleted after."""
    api = stack.profile.api
    owner = login(api.email)
    url = _create(http, gateway_url + api.probe_path, api.probe_body, owner)
    yield url
    unlimited(lambda: http.delete(url, headers=owner), f"DELETE {url}")


def _routes(api, method: str) -> list[str]:
    """Every route of every resource (probe_path and resources) that takes ``method``: a resource's list for GET and
    POST, and an item with a random id for GET, PATCH and DELETE, so that no row is read, changed or deleted."""
    item = uuid.uuid4()
    paths = dict.fromkeys((api.probe_path, *api.resources))
    return [route for path in paths for route in (
        ([path] if method in ("GET", "POST") else []) + ([f"{path}/{item}"] if method != "POST" else []))]


@pytest.mark.control("API-02", severity="high", claims=["P1", "N3", "Z10"])
def test_role_may_use_only_its_methods(stack, gateway_url, http, login, role_method, request):
    """Each role may use the methods the profile grants it and gets 403 for the others, on every resource route.

    Rationale: a role stored but never checked is no permission at all: any account of a
    tenant, a client's or a supplier's included, could change or delete every record of
    that tenant. Each case logs in as the role's user through the gateway and sends one
    method to probe_path (GET, PATCH and DELETE to a fresh row made for the case), then
    to every route of every resource that takes the method, with a random id and a body
    no route accepts (a JSON array): a denied role must get 403 there too, before any
    lookup or validation; a permitted one must get past the guard (no 401, 403 or 5xx).

    Covers: every role and every method, on probe_path and on each resource's list,
    create, read, update and delete routes.

    Fix: Check the caller's role on every route that writes, and answer 403 to the
    others.

    References: https://owasp.org/API-Security/editions/2023/en/0xa5-broken-function-level-authorization/
    """
    role, method = role_method
    api = stack.profile.api
    permitted = role in api.method_roles[method]
    auth = login(api.role_users[role])
    url = request.getfixturevalue("probe_row") if method in ("GET", "PATCH", "DELETE") else gateway_url + api.probe_path
    response = unlimited(lambda: http.request(
        method, url, json=api.probe_body if method in ("POST", "PATCH") else None, headers=auth), f"{method} {url}")
    if method == "POST" and response.ok:
        unlimited(lambda: http.delete(f"{url}/{response.json()['id']}", headers=login(api.email)), f"DELETE {url}")
    assert response.ok if permitted else response.status_code == 403, (
        f"{method} {url.removeprefix(gateway_url)} as {role}: expected {'success' if permitted else 403}, "
        f"found {response.status_code} {response.text[:200]}")
    wrong = []
    for route in _routes(api, method):
        status = unlimited(lambda route=route: http.request(
            method, gateway_url + route, headers=auth, json=[] if method in ("POST", "PATCH") else None),
            f"{method} {route} as {role}").status_code
        if (status in (401, 403) or status >= 500) if permitted else status != 403:
            wrong.append(f"{method} {route}: {status}")
    assert not wrong, (f"as {role}: expected {'no 401, 403 or 5xx' if permitted else '403'} on every route, "
                       f"found {', '.join(wrong)}")


def _surrogates(fields: dict) -> bytes:
    """``fields`` as JSON with every string replaced by a lone surrogate, escaped as ``\\ud800``."""
    return json.dumps({k: "\ud800" if isinstance(v, str) else v for k, v in fields.items()}).encode()


MALFORMED = {  # name -> the body, made from the fields a route expects
    "invalid-json": lambda fields: json.dumps(fields).encode()[:-1],
    "lone-surrogate": _surrogates,
    "not-an-object": lambda fields: json.dumps([fields]).encode(),
}


@pytest.mark.control("API-03", severity="medium", claims=["Z10"])
@pytest.mark.parametrize("route", ["login", "create", "update"])
@pytest.mark.parametrize("malformed", MALFORMED, ids=list(MALFORMED))
def test_malformed_body_rejected(stack, gateway_url, http, login, route, malformed):
    """Invalid JSON, invalid Unicode and a body that is not an object get 400, never 500.

    Rationale: JSON may carry a lone surrogate ("\\ud800") that the parser accepts but
    no UTF-8 encoder does; let through, it fails deep in the database driver as a 500, an
    unhandled error an attacker can trigger at will and that hides real outages. Each route
    that reads JSON is sent the body it expects, broken three ways.

    Fix: Decode and validate request bodies before use; answer 400 with a JSON error for
    invalid JSON or Unicode.

    References: https://owasp.org/API-Security/editions/2023/en/0xa8-security-misconfiguration/
    """
    api = stack.profile.api
    if route == "login":
        method, url, auth = "POST", gateway_url + api.login_path, {}
        fields = {"tenant": api.tenant, "email": api.email, "password": "not-the-password"}
    else:
        if not api.probe_body:
            pytest.skip("not checked: the profile sets no api.probe_body")
        method, url, auth, fields = "POST", gateway_url + api.probe_path, login(api.email), api.probe_body
        if route == "update":
            listed = unlimited(lambda: http.get(url, headers=auth), f"GET {api.probe_path}")
            assert listed.status_code == 200, f"GET {api.probe_path}: expected 200, found {listed.status_code}"
            items = listed.json()
            method, url = "PATCH", f"{url}/{(items['items'] if isinstance(items, dict) else items)[0]['id']}"
    path = url.removeprefix(gateway_url)
    response = unlimited(lambda: http.request(method, url, data=MALFORMED[malformed](fields),
                                               headers={"Content-Type": "application/json", **auth}),
                          f"{method} {path}")
    assert response.status_code == 400, (
        f"{method} {path} with {malformed} body: expected 400, found {response.status_code} {response.text[:200]}")
    assert response.headers.get("Content-Type", "").startswith("application/json"), (
        f"{method} {path} with {malformed} body: expected a JSON error, found {response.headers.get('Content-Type')}")


# A Prometheus text exposition sample: name, optional labels, a value, an optional timestamp.
PROMETHEUS_SAMPLE = re.compile(r"^[A-Za-z_:][A-Za-z0-9_:]*(\{.*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)( -?\d+)?$")


def _inside_get(host, port: int, path: str) -> tuple[str, str, str]:
    """GET ``path`` on loopback ``port`` from ``host`` (an inspector in the service's namespaces):
    the status line, the headers (lower case) and the body."""
    script = f'exec 3<>/dev/tcp/127.0.0.1/{port} && printf %s "$1" >&3 && cat <&3'
    done = host.run("timeout 10 bash -c %s _ %s", script, f"GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n")
    head, _, body = done.stdout.replace("\r\n", "\n").partition("\n\n")
    status, _, headers = head.partition("\n")
    return status, headers.lower(), body


def _is_prometheus(text: str) -> bool:
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    return bool(samples) and all(PROMETHEUS_SAMPLE.match(line) for line in samples)


@pytest.mark.control("API-04", severity="medium", claims=["P2"])
def test_metrics_inside_only(stack, gateway_listeners, inspectors):
    """Prometheus metrics are served inside the stack, in the text format, and never through the gateway, on any of
    its listeners.

    Rationale: metrics are how a small device is watched, so they must exist and parse;
    but they name every route, count every error and reveal the software's versions, so
    the outside world must not read them.

    Fix: Serve `/metrics` on the API's own port (prometheus-client's `generate_latest`)
    and give the gateway no location for it; scrape it from the stack's network.

    References: https://prometheus.io/docs/instrumenting/exposition_formats/; https://owasp.org/Top10/A05_2021-Security_Misconfiguration/
    """
    api = stack.profile.api
    if api.metrics_service is None:
        skip_not_applicable("api.metrics_service", "the profile names no api.metrics_service")
    status, headers, body = _inside_get(inspectors.host(stack.container(api.metrics_service)), api.metrics_port,
                                        api.metrics_path)
    where = f"{api.metrics_service}:{api.metrics_port}{api.metrics_path}"
    assert status.split(" ")[1:2] == ["200"], f"GET {where} from inside: expected 200, found {status or 'no answer'}"
    assert "content-type: text/plain" in headers, f"GET {where}: expected text/plain, the Prometheus text format"
    assert _is_prometheus(body), f"GET {where}: expected Prometheus samples, found {body[:120]!r}"
    path = api.metrics_path
    exposed = [f"{variant} ({listener.name})" for listener in gateway_listeners
               for variant in (path, path + "/", "/" + path, path + "?x=1")
               if (response := listener.request("GET", variant, allow_redirects=False)).status_code == 200
               and _is_prometheus(response.text)]
    assert not exposed, f"expected metrics unreachable through the gateway, found them at {', '.join(exposed)}"
