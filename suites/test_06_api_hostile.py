"""Hostile input to the API through the gateway: injection, traversal, odd Unicode, oversized and mistyped bodies.

The inputs are generated from the profile's routes (resources, probe_path and its body, the
login), so a user's stack gets the same treatment. An answer of 500 or above, or a body that
shows a stack trace, SQL or an internal path, fails; a 429 is retried, and one that stays is
"not tested", never a pass.
"""

import json
import time
from urllib.parse import quote

import pytest

from infra_conformance.probes import leaks

PAYLOADS = {
    "sql-quote": "' OR '1'='1", "sql-comment": "admin'--", "sql-stacked": "1; DROP TABLE users; --",
    "sql-union": "' UNION SELECT NULL, version()--", "sql-sleep": "1' AND pg_sleep(3)--",
    "sql-dollar": "$$; SELECT 1; $$", "sql-double-quote": '" OR ""="', "sql-paren": "1)) OR ((1=1",
    "uuid-quote": "00000000-0000-0000-0000-000000000000'", "traversal": "../../../../etc/passwd",
    "traversal-encoded": "..%2F..%2F..%2Fetc%2Fpasswd", "traversal-double": "%252e%252e%252f",
    "nul": "a\x00b", "rtl-override": "\u202egnp.exe", "emoji": "\U0001f9e8\U0001f4a5",
    "combining": "e\u0301\u0301\u0301", "bom": "\ufeffx", "long": "A" * 8192, "format": "%s%s%s%n",
    "template": "{{7*7}}${7*7}", "crlf": "x\r\nSet-Cookie: a=b", "negative": "-1",
    "huge-number": "9" * 40, "float": "1e309", "lone-surrogate": "\ud800",
}
QUERY_PARAMS = ("limit", "offset", "id", "sort")
RETRIES_ON_429 = 8


def _send(http, method: str, url: str, **kwargs):
    """Send, retrying while the gateway rate-limits (429 is no answer about the input)."""
    for attempt in range(RETRIES_ON_429):
        response = http.request(method, url, **kwargs)
        if response.status_code != 429:
            return response
        time.sleep(0.5 * (attempt + 1))
    return response


def _verdict(response) -> str | None:
    """Why this answer to hostile input is wrong, or None."""
    if response.status_code == 429:
        return "429 after every retry: not tested"
    if response.status_code >= 500:
        return f"{response.status_code}"
    leaked = leaks.leaked(response.text)
    return f"{response.status_code} showing {', '.join(leaked)}" if leaked else None


@pytest.fixture(scope="module")
def tokens(stack, api_login):
    """Bearer tokens of every profile user of the login tenant: the gateway limits each token, not the test."""
    api = stack.profile.api
    return [api_login(email) for email in sorted({api.email, *api.role_users.values()})]


def _auth(tokens, n: int) -> dict:
    return {"Authorization": f"Bearer {tokens[n % len(tokens)]}"}


@pytest.mark.control("API-05", severity="high", claims=["Z10"])
def test_hostile_paths_and_queries(stack, gateway_url, http, tokens, resource, record_property):
    """Injection, traversal and odd Unicode in a resource's path and query never make the API fail or leak.

    Rationale: a 500 is an error that an attacker can trigger at will, and often the sign
    of input reaching SQL or the file system unchecked; a stack trace, an SQL fragment or
    an internal path in the answer tells them how. Every payload goes in as the resource
    id (GET and DELETE) and in every query parameter.

    Fix: Validate ids and parameters before use (a UUID parser, integer bounds), pass
    values to SQL only as parameters, and answer errors with a short JSON body.

    References: https://owasp.org/API-Security/editions/2023/en/0xa8-security-misconfiguration/; https://cheatsheetseries.owasp.org/cheatsheets/SQL_Injection_Prevention_Cheat_Sheet.html
    """
    sent, wrong = 0, []
    for name, payload in PAYLOADS.items():
        value = quote(payload.encode("utf-8", "surrogatepass"), safe="")
        requests = [("GET", f"{resource}/{value}"), ("DELETE", f"{resource}/{value}")]
        requests += [("GET", f"{resource}?{param}={value}") for param in QUERY_PARAMS]
        for method, path in requests:
            response = _send(http, method, gateway_url + path, headers=_auth(tokens, sent))
            sent += 1
            if why := _verdict(response):
                wrong.append(f"{method} {path[:60]} ({name}): {why}")
    record_property("hostile_inputs", sent)
    assert not wrong, f"{resource}: {len(wrong)} of {sent} hostile requests answered wrongly: {'; '.join(wrong[:5])}"


@pytest.mark.control("API-06", severity="high", claims=["Z10"])
@pytest.mark.parametrize("route", ["login", "create"])
def test_hostile_bodies(stack, gateway_url, http, tokens, route, record_property):
    """Injection, traversal and odd Unicode in the fields of the login and of a new record never make the API
    fail or leak; a record created from them reads back unchanged and is removed.

    Rationale: body fields reach SQL and logs like parameters do. A value that is stored
    must come back byte for byte, or the API rewrites data on the way in.

    Fix: Bind every value as an SQL parameter; reject what the schema does not allow with
    400 or 422; never build SQL or log lines from raw input.

    References: https://cheatsheetseries.owasp.org/cheatsheets/Input_Validation_Cheat_Sheet.html
    """
    api, sent, wrong = stack.profile.api, 0, []
    if route == "login":
        url, fields, base = gateway_url + api.login_path, ("tenant", "email", "password"), {
            "tenant": api.tenant, "email": api.email, "password": "not-the-password"}
    else:
        if not api.probe_body:
            pytest.skip("not checked: the profile sets no api.probe_body")
        url, base = gateway_url + api.probe_path, dict(api.probe_body)
        fields = [field for field, value in base.items() if isinstance(value, str)]
    for n, (name, payload) in enumerate(PAYLOADS.items()):
        # The login is rate-limited per address (5/s): there each payload goes into one field, in turn.
        for field in fields if route == "create" else [fields[n % len(fields)]]:
            headers = _auth(tokens, sent) if route == "create" else {}
            response = _send(http, "POST", url, json={**base, field: payload}, headers=headers)
            sent += 1
            if why := _verdict(response):
                wrong.append(f"{field}={name}: {why}")
            elif route == "create" and response.status_code == 201:
                created = response.json()
                if created.get(field) != payload:
                    wrong.append(f"{field}={name}: stored as {str(created.get(field))[:40]!r}")
                _send(http, "DELETE", f"{url}/{created['id']}", headers=headers)
    record_property("hostile_inputs", sent)
    assert not wrong, f"POST {url.removeprefix(gateway_url)}: {len(wrong)} of {sent} wrong: {'; '.join(wrong[:5])}"


OVERSIZED = 1024 * 1024
CONTENT_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                 "application/xml", "")


@pytest.mark.control("API-07", severity="medium", claims=["Z10"])
def test_oversized_and_mistyped_bodies(stack, gateway_url, http, tokens):
    """A body over the limit gets 413; a valid record sent as another content type, deeply nested JSON or a JSON
    array gets a 4xx; none gets a 5xx or creates a record.

    Rationale: without a size limit one request fills a Pi's memory; a parser fed an
    unexpected type or a deeply nested document fails in ways that are easy to trigger;
    an API that reads any content type as JSON accepts what a browser form may send from
    another site.

    Fix: Set nginx's `client_max_body_size` and an application limit; answer 415 unless
    the request says `Content-Type: application/json`; bound the nesting depth.

    References: https://nginx.org/en/docs/http/ngx_core_module.html#client_max_body_size; https://owasp.org/API-Security/editions/2023/en/0xa4-unrestricted-resource-consumption/
    """
    api = stack.profile.api
    if not api.probe_body:
        pytest.skip("not checked: the profile sets no api.probe_body")
    url, record = gateway_url + api.probe_path, json.dumps(api.probe_body)
    big = _send(http, "POST", url, data=b'{"name": "' + b"x" * OVERSIZED + b'"}',
                headers={"Content-Type": "application/json", **_auth(tokens, 0)})
    assert big.status_code == 413, f"POST {api.probe_path} with 1 MiB: expected 413, found {big.status_code}"
    cases = {f"Content-Type {kind or '(none)'}": (record, kind) for kind in CONTENT_TYPES}
    cases["nested JSON"] = ("[" * 100_000 + "]" * 100_000, "application/json")
    cases["a JSON array"] = (json.dumps([api.probe_body]), "application/json")
    wrong = []
    for n, (name, (body, kind)) in enumerate(cases.items()):
        headers = {**({"Content-Type": kind} if kind else {}), **_auth(tokens, n)}
        response = _send(http, "POST", url, data=body.encode(), headers=headers)
        if response.status_code == 201:
            _send(http, "DELETE", f"{url}/{response.json()['id']}", headers=headers)
        if not 400 <= response.status_code < 500 or response.status_code == 429 or _verdict(response):
            wrong.append(f"{name}: {response.status_code}")
    assert not wrong, f"POST {api.probe_path}: expected a 4xx for each, found {'; '.join(wrong)}"
