"""Faults: PostgreSQL killed during writes, Redis killed; nothing acknowledged is lost, and the API answers 503.

These controls are ``destructive``: each restores what it breaks, and they run after every control that is not
(``fixtures.collection.run_order``), because the session's database connection does not survive them and the stack's
published ports change.
"""

import threading
import time
from dataclasses import dataclass

import pytest
import requests

from infra_conformance.engine.wait import WaitTimeout, wait_for
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.http_clients import answered, current_gateway_url
from infra_conformance.probes import leaks

AOF_WINDOW_S = 1.5  # appendfsync everysec promises what is older than a second; this waits out that window


@dataclass(frozen=True)
class Answer:
    started: float
    ended: float
    status: int | None  # None: no HTTP answer at all
    text: str
    json: bool
    row_id: str | None


def _fault_answer_problem(answer: Answer) -> str | None:
    """Why an answer that is not a 201 is wrong while a data service is down, or None."""
    if answer.status is None:
        return f"no answer ({answer.text[:80]})"
    if answer.status == 429:  # the gateway's rate limit: not about the fault, and acknowledges nothing
        return None
    if answer.status != 503:
        return f"{answer.status}"
    if not answer.json:
        return "503 without a JSON body"
    if found := leaks.leaked(answer.text):
        return f"503 showing {', '.join(found)}"
    return None


class Writers:
    """Threads that create rows through the gateway, each with its own token, paced under the per-token limit."""

    def __init__(self, url: str, tokens: list[str], body: dict, rate_per_s: int):
        self.url, self.body, self.answers, self.stop = url, body, [], threading.Event()
        self.interval = 2 / rate_per_s if rate_per_s else 0.05  # half the limit
        self.threads = [threading.Thread(target=self._write, args=(token,), daemon=True) for token in tokens]

    def _write(self, token: str) -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {token}"
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    response = session.post(self.url, json=self.body, timeout=15)
                    is_json = response.headers.get("content-type", "").startswith("application/json")
                    row = response.json().get("id") if response.status_code == 201 and is_json else None
                    answer = Answer(started, time.monotonic(), response.status_code, response.text[:500],
                                    is_json, str(row) if row else None)
                except (requests.RequestException, ValueError) as error:
                    answer = Answer(started, time.monotonic(), None, str(error), False, None)
                self.answers.append(answer)
                self.stop.wait(self.interval)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def count(self, since: float, acknowledged: bool | None = None) -> int:
        return sum(a.started >= since and (acknowledged is None or (a.status == 201) == acknowledged)
                   for a in list(self.answers))


def _need(stack, *sections: str):
    for section in sections:
        if getattr(stack.profile, section) is None:
            skip_not_applicable(section, f"the profile has no [{section}] section")


def _writer_tokens(stack, api_login) -> list[str]:
    """Up to two users allowed to POST ``probe_path``: the login user, and another role's user."""
    api = stack.profile.api
    if "POST" not in api.method_roles:
        skip_not_applicable("api.method_roles", "the profile names no write (no POST in api.method_roles)")
    if not api.probe_body:
        pytest.skip("not checked: the profile sets no api.probe_body to write with")
    writers = [api.email] + [api.role_users[role] for role in api.method_roles.get("POST", ())
                             if role in api.role_users and api.role_users[role] != api.email]
    return [api_login(email) for email in writers[:2]]


def _starts(stack, but: str) -> dict[str, tuple]:
    """Each container's start time and restart count, except ``but``'s: to see that nothing else restarted."""
    return {c.name: (c.attrs["State"]["StartedAt"], c.attrs["RestartCount"])
            for c in stack.containers(all=False) if c.labels.get("com.docker.compose.service") != but}


def _read_back(url: str, token: str, ids: set[str]) -> set[str]:
    """Which of ``ids`` a paged listing returns (newest first, so the recent rows come first)."""
    found, offset, headers = set(), 0, {"Authorization": f"Bearer {token}"}
    with requests.Session() as session:
        while ids - found:
            page = {"limit": 200, "offset": offset}
            response = wait_for(lambda page=page: answered(session.get(url, params=page, headers=headers, timeout=15)),
                                "a page of the listing", errors=(ConnectionError,), timeout_s=30)
            assert response.status_code == 200, (f"GET {url}?offset={offset}: expected 200 to read the rows back, "
                                                 f"found {response.status_code} {response.text[:200]}")
            items = response.json()["items"]
            if not items:
                break
            found |= {str(item.get("id")) for item in items} & ids
            offset += len(items)
    return found


@pytest.mark.destructive
@pytest.mark.control("RES-01", severity="critical", claims=["N5", "N6", "Z10"])
def test_postgres_killed_during_writes(stack, api_login, record_property):
    """PostgreSQL killed (SIGKILL) under a write load: 503 in JSON meanwhile, recovery, no acknowledged write lost.

    Rationale: a power cut, the OOM killer or a crashed SD card kills PostgreSQL without warning. While it is
    down the API must say so (503, JSON, no stack trace), come back on its own once PostgreSQL is back (no
    restart of the API), and every create it answered 201 must be there: a 201 before the commit is a
    lie to the client. The suite writes through the gateway with two users, kills PostgreSQL, judges the
    answers to the requests sent once its container has exited, starts it again and reads every
    acknowledged row back.

    Fix: Answer only after the transaction commits; map connection errors to 503 with a JSON body; let the
    connection pool reconnect (psycopg_pool does) instead of exiting.

    References: https://www.postgresql.org/docs/current/wal-intro.html; https://www.psycopg.org/psycopg3/docs/advanced/pool.html
    """
    _need(stack, "api", "postgres")
    api, pg, bound = stack.profile.api, stack.profile.postgres, stack.profile.faults.recovery_s
    tokens, url = _writer_tokens(stack, api_login), current_gateway_url(stack) + api.probe_path
    others, database = _starts(stack, but=pg.service), stack.container(pg.service)
    with Writers(url, tokens, dict(api.probe_body), api.api_rate_per_s) as writers:
        wait_for(lambda: writers.count(0, True) >= 5 or _raise("fewer than 5 creates answered 201"),
                 f"writes to {api.probe_path}", errors=(RuntimeError,), timeout_s=30)
        database.kill(signal="SIGKILL")
        database.wait(timeout=30)
        # From here PostgreSQL is gone: a request sent before may still have been answered 201 by a live server,
        # and a 429 is the gateway's rate limit; neither shows how the API handles the outage.
        down = time.monotonic()
        wait_for(lambda: len(_answered_while_down(writers, down)) >= len(tokens) or _raise("no answer to each "
                 "writer yet"), "answers while PostgreSQL is down", errors=(RuntimeError,), timeout_s=30,
                 hint="the API neither answered nor failed: read its logs in the report")
        during = _answered_while_down(writers, down)
        database.start()
        stack.wait_healthy(pg.service, timeout_s=120)
        back = time.monotonic()
        try:
            wait_for(lambda: writers.count(back, True) >= 1 or _raise("no 201 yet"), "a create after the restart",
                     errors=(RuntimeError,), timeout_s=bound)
            recovery = min(a.ended for a in writers.answers if a.started >= back and a.status == 201) - back
        except WaitTimeout:
            recovery = None
    acknowledged = {a.row_id for a in writers.answers if a.status == 201 and a.row_id}
    wrong = sorted({problem for a in writers.answers if a.status != 201 and (problem := _fault_answer_problem(a))}
                   | {"201 (a create acknowledged with PostgreSQL down)" for a in during if a.status == 201})
    restarted = sorted(name for name, start in _starts(stack, but=pg.service).items() if others.get(name) != start)
    missing = acknowledged - _read_back(url, tokens[0], acknowledged)
    record_property("writes_acknowledged", len(acknowledged))
    record_property("answers_while_down", len(during))
    record_property("recovery_s", round(recovery, 2) if recovery is not None else None)

    assert during, "no request was answered while PostgreSQL was down: the fault was never observed"
    assert not wrong, f"while PostgreSQL was down, expected 503 with a JSON body, found {', '.join(wrong)}"
    assert recovery is not None, f"expected a 201 within {bound:g} s of PostgreSQL being healthy, found none"
    assert not restarted, f"expected no other container to restart, found {', '.join(restarted)} restarted"
    assert not missing, (f"{len(missing)} of {len(acknowledged)} creates answered 201 are missing after the "
                         f"restart, e.g. {sorted(missing)[:3]}")


def _answered_while_down(writers: Writers, down: float) -> list[Answer]:
    """The answers to requests sent once the data service was gone, but the gateway's rate-limit answers."""
    return [a for a in list(writers.answers) if a.started >= down and a.status != 429]


def _raise(message: str):
    raise RuntimeError(message)


@pytest.mark.destructive
@pytest.mark.control("RES-02", severity="high", claims=["N5", "N6"])
def test_redis_killed_sessions_survive(stack, http):
    """Redis killed (SIGKILL): login answers 503 in JSON meanwhile, and sessions are valid once it is back.

    Rationale: Redis holds the sessions. Killed, it must not turn every request into a 500 with a stack
    trace, nor log every user out when it returns. The suite logs in, waits out AOF's one-second window,
    kills Redis, tries a login and a session, starts Redis and uses the session again.

    Fix: Map Redis connection errors to 503 with a JSON body; keep sessions in a Redis with AOF on a volume;
    retry idempotent session commands after a reconnect.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
    """
    _need(stack, "api", "redis")
    api, rd, bound = stack.profile.api, stack.profile.redis, stack.profile.faults.recovery_s
    url, credentials = current_gateway_url(stack), {
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)}
    login = http.post(url + api.login_path, json=credentials)
    assert login.status_code == 200, f"POST {api.login_path}: expected 200, found {login.status_code}"
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    time.sleep(AOF_WINDOW_S)
    cache = stack.container(rd.service)
    cache.kill(signal="SIGKILL")
    cache.wait(timeout=30)
    answers = {"login": http.post(url + api.login_path, json=credentials), "session": http.get(url + api.me_path,
                                                                                                headers=auth)}
    cache.start()
    stack.wait_healthy(rd.service, timeout_s=120)
    wrong = {what: problem for what, r in answers.items()
             if (problem := _fault_answer_problem(Answer(0, 0, r.status_code, r.text, r.headers.get(
                 "content-type", "").startswith("application/json"), None)))}
    assert not wrong, f"while Redis was down, expected 503 with a JSON body, found {wrong}"
    me = wait_for(lambda: answered(http.get(url + api.me_path, headers=auth)), f"GET {api.me_path}",
                  errors=(ConnectionError,), timeout_s=bound)
    assert me.status_code == 200, (f"GET {api.me_path} with a session from before the kill: expected 200, found "
                                   f"{me.status_code} {me.text[:200]}")
