"""Whether a TCP connection from inside a container can be made, named as evidence.

A connection counts when each of ``REPEATS`` more attempts connects too. Docker's bridge driver lifts its
isolation rules for a moment whenever a network is created or removed on the engine (on Docker 20.10, the
FORWARD chain lacked its jump to the isolation chain in 9 of 400 reads during such churn), so one connection
that no later attempt repeats is ``UNREPEATED``. A mixed round is probed again, up to ``ROUNDS`` rounds: a
round blocked from its first attempt makes the connections ``UNREPEATED`` too, and one that stays mixed is
named with its counts and proves nothing. A real route connects in every attempt of every round.

>>> class Host:  # a testinfra host whose connections follow a script
...     def __init__(self, *codes): self.codes = list(codes)
...     def run(self, *args):
...         rc = self.codes.pop(0)
...         return type("Done", (), {"rc": rc, "stderr": "" if rc != 1 else "bash: Connection refused"})
>>> probe(Host(0, 0, 0, 0), "postgres", "5432")
'connected'
>>> probe(Host(0, 124, 124, 124), "postgres", "5432") == UNREPEATED
True
>>> probe(Host(0, 0, 1, 124, 124), "postgres", "5432") == UNREPEATED
True
>>> probe(Host(*[0, 0, 1, 124] * 3), "postgres", "5432")
'connected on 2 of 4 attempts (connected, refused, timed out)'
>>> probe(Host(0, 124, 0, 0, 0, 0, 0, 0), "postgres", "5432")
'connected'
>>> probe(Host(1), "postgres", "5432")
'refused'
"""

from __future__ import annotations

# What counts as evidence that a connection cannot be made; any other error proves nothing.
UNREACHABLE = ("refused", "timed out", "no route to host", "network unreachable", "no such host")
BASH_ERRORS = {"Connection refused": "refused", "No route to host": "no route to host",
               "Network is unreachable": "network unreachable", "Name or service not known": "no such host",
               "Connection timed out": "timed out"}
REPEATS = 3
ROUNDS = 3
UNREPEATED = "connected, then blocked on every repeat"


def probe(host, address: str, port: str) -> str:
    """The outcome of a connection attempt from ``host``, confirmed as the module says."""
    mixed = ""
    for _ in range(ROUNDS):
        outcome = _round(host, address, port)
        if not outcome.startswith("connected on "):
            return UNREPEATED if mixed and outcome in UNREACHABLE else outcome
        mixed = outcome
    return mixed


def _round(host, address: str, port: str) -> str:
    first = connect(host, address, port)
    if first != "connected":
        return first
    again = [connect(host, address, port) for _ in range(REPEATS)]
    if all(outcome == "connected" for outcome in again):
        return "connected"
    if all(outcome in UNREACHABLE for outcome in again):
        return UNREPEATED
    return f"connected on {1 + again.count('connected')} of {1 + REPEATS} attempts ({', '.join(again)})"


def connect(host, address: str, port: str) -> str:
    """One TCP connection attempt from ``host`` with bash's /dev/tcp, within 3 s; its outcome, named."""
    done = host.run("timeout 3 bash -c %s", f"</dev/tcp/{address}/{port}")
    if done.rc == 0:
        return "connected"
    if done.rc == 124:
        return "timed out"
    return next((outcome for text, outcome in BASH_ERRORS.items() if text in done.stderr),
                f"exit {done.rc}: {done.stderr.strip()[-200:]}")
