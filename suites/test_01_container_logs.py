"""Container logs: structured, and without personal data, after every control's and the load run's traffic.

Marked ``last``: they run after every control but the destructive ones (``fixtures.collection.run_order``), so that
what the others and the load run sent is in the logs they read, before a restore recreates a service.
"""

import json
import re
import secrets

import docker
import pytest
import requests

from infra_conformance.plugins.http_clients import current_gateway_url, unlimited

pytestmark = pytest.mark.last
TAIL = 5000  # lines per container: what an operator scrolls through
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
PASSWORD_FIELD = re.compile(r'"password"\s*:\s*"[^"]+"')


def _lines(container, service: str) -> list[str]:
    """The service's last log lines; logs the engine cannot give are no evidence, so the control fails."""
    try:
        text = container.logs(tail=TAIL).decode(errors="replace")
    except docker.errors.APIError as error:
        pytest.fail(f"{service}: could not read its logs: {error.explanation or error}", pytrace=False)
    return [line for line in text.splitlines() if line.strip()]


def _personal_data(generated: list[str], planted: str | None, line: str) -> str | None:
    """What in ``line`` is personal data or a credential, or None: ``generated`` are the run's secrets, ``planted``
    the surname the suite wrote through the API."""
    if any(value in line for value in generated):
        return "a generated secret"
    if planted and planted in line:
        return "a name written through the API"
    if JWT.search(line):
        return "a JWT (a bearer token)"
    if PASSWORD_FIELD.search(line):
        return "a password field"
    if match := EMAIL.search(line):
        return f"an e-mail address ({match.group(0).split('@')[0][:2]}…@{match.group(0).split('@')[1]})"
    return None


@pytest.mark.control("CTR-20", severity="medium", claims=["Z12"])
def test_logs_are_json(stack, json_log_service, http, record_property):
    """A service whose profile promises JSON logs writes one JSON object per line, on stdout and stderr.

    Rationale: structured logs are what a log collector parses into fields (level,
    route, status, duration) without fragile patterns; a single plain-text line (a
    traceback, a library's print) breaks that parsing and hides the event.

    Fix: Give every logger a JSON formatter (the reference API's `crm_api/logs.py`), and
    route library and server loggers through it. PostgreSQL: `log_destination =
    'jsonlog'`; nginx: a `log_format` with `escape=json`. A server with no JSON
    format of its own (Redis, nginx's error log) needs its lines converted, as the
    reference stack's entrypoints do.

    References: https://docs.python.org/3/howto/logging-cookbook.html#implementing-structured-logging; https://12factor.net/logs
    """
    service = json_log_service
    if api := stack.profile.api:  # a request through the gateway, so that every service on its way logs
        http.get(current_gateway_url(stack) + api.probe_path)
    lines = _lines(stack.container(service), service)
    record_property("lines_read", len(lines))
    assert lines, f"{service}: expected JSON log lines, found no log at all"
    wrong = []
    for number, line in enumerate(lines, 1):
        try:
            if not isinstance(json.loads(line), dict):
                wrong.append(number)
        except json.JSONDecodeError:
            wrong.append(number)
    assert not wrong, (f"{service}: expected every log line to be a JSON object, found {len(wrong)} of "
                       f"{len(lines)} that are not (first at line {wrong[0]})")


@pytest.fixture(scope="module")
def planted(request, stack) -> str | None:
    """A made-up surname, unique to the run, that the suite writes through the API just before the logs are read: in
    each text field of a record created from probe_body, then changed and deleted. A log that holds it holds the
    names, phone numbers and addresses that users write. None when the stack has no API or probe_body to write, or
    the suite has no login on it (a stack it did not start)."""
    api = stack.profile.api
    if api is None or not api.probe_body:
        return None
    try:
        token = request.getfixturevalue("api_login")(api.email)
    except pytest.skip.Exception:
        return None
    url = current_gateway_url(stack) + api.probe_path
    auth, surname = {"Authorization": f"Bearer {token}"}, f"Lovelace{secrets.token_hex(4)}"
    body = {k: f"{v} {surname}" if isinstance(v, str) else v for k, v in api.probe_body.items()}
    created = unlimited(lambda: requests.post(url, json=body, headers=auth, timeout=10), f"POST {api.probe_path}")
    if created.status_code != 201:
        pytest.fail(f"POST {api.probe_path} with probe_body's text fields ending in a made-up surname: expected 201, "
                    f"found {created.status_code}: no personal data could be planted to look for in the logs")
    row = f"{url}/{created.json()['id']}"
    unlimited(lambda: requests.patch(row, json=body, headers=auth, timeout=10), f"PATCH {api.probe_path}")
    unlimited(lambda: requests.delete(row, headers=auth, timeout=10), f"DELETE {api.probe_path}")
    return surname


@pytest.mark.running
@pytest.mark.control("CTR-21", severity="high", claims=["Z12", "P10"])
def test_logs_hold_no_personal_data(stack, container, service, planted):
    """No log line holds an e-mail address, a password, a bearer token, a generated secret or the personal data
    that users write.

    Rationale: logs are copied to collectors, tickets and laptops, and kept longer than
    the data; an e-mail address there is personal data under the GDPR, and a token or
    password there is a credential anyone with log access can use. Names, phone
    numbers and addresses have no pattern to search for, so the suite writes a record
    whose text fields end in a made-up surname through the API just before the logs are
    read: a request body, a record or a database statement's bind parameters in a log
    show it.

    Covers: every log line of the service (its last 5000); e-mail addresses, JWTs,
    password fields, the generated secrets, and the text fields of a record written,
    changed and deleted through the API.

    Fix: Log route templates and ids, never request bodies or the Authorization
    header: no `$http_authorization` or `$request_body` in nginx's `log_format`, no
    user input in application log messages, and no `log_statement` or bind parameters
    (`log_parameter_max_length = 0`) in PostgreSQL's log.

    References: https://owasp.org/Top10/A09_2021-Security_Logging_and_Monitoring_Failures/; https://cheatsheetseries.owasp.org/cheatsheets/Logging_Cheat_Sheet.html
    """
    lines = _lines(container, service)
    generated = [value for name in stack.profile.secrets if (value := stack.secret(name).strip())]
    found = [(number, what) for number, line in enumerate(lines, 1)
             if (what := _personal_data(generated, planted, line))]
    assert not found, (f"{service}: expected no personal data in its {len(lines)} log lines, found {len(found)} "
                       f"lines with it, e.g. line {found[0][0]}: {found[0][1]}")
