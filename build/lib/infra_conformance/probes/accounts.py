"""The suite's own logins on the stack under test, made and removed with the commands its profile declares."""

from __future__ import annotations

from infra_conformance.engine.compose import Compose
from infra_conformance.errors import UsageProblem, printable
from infra_conformance.profile.api import Api

COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_line(*values: str) -> bytes:
    """One line of PostgreSQL's COPY text format: tab-separated, with backslash escapes.

    >>> copy_line("acme", "a@acme.test", "pa\\tss\\\\")
    b'acme\\ta@acme.test\\tpa\\\\tss\\\\\\\\\\n'
    """
    return ("\t".join(value.translate(COPY_ESCAPES) for value in values) + "\n").encode()


def make(compose: Compose, api: Api, password: str) -> int:
    """Make (or update) every login the controls use, with ``password``; return how many."""
    logins = api.logins()
    _run(compose, api, "add", b"".join(copy_line(tenant, email, role, password) for tenant, email, role in logins))
    return len(logins)


def remove(compose: Compose, api: Api) -> None:
    """Delete the logins that ``make`` made."""
    _run(compose, api, "remove", b"".join(copy_line(tenant, email) for tenant, email, _ in api.logins()))


def _run(compose: Compose, api: Api, key: str, stdin: bytes) -> None:
    command = getattr(api.accounts, key)
    done = compose.exec(api.accounts.service, *command, stdin=stdin)
    if done.returncode:
        said = done.stderr.decode(errors="replace").strip().splitlines() or [f"exit {done.returncode}"]
        raise UsageProblem(f"key 'api.accounts.{key}': `{' '.join(command)}` in service {api.accounts.service} "
                           f"failed (exit {done.returncode}): {printable(said[-1], 200, False)}")
