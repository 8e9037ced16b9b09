"""The two ways a run ends early, each with one printable line: bad input (exit 4) or an unusable machine (exit 3)."""

from __future__ import annotations

USAGE_EXIT = 4  # bad input: a profile key, an option, a missing overlay
ENV_EXIT = 3  # the environment is not usable: no engine, a port in use, a stack that will not start


class Problem(Exception):
    """Ends the run with ``exit_code`` and one line; the message is already printable."""

    exit_code = ENV_EXIT


class UsageProblem(Problem):
    exit_code = USAGE_EXIT


class EnvironmentProblem(Problem):
    exit_code = ENV_EXIT


def printable(value, limit: int = 60, quote: bool = True) -> str:
    """``value`` safe to echo on one line: control characters escaped, non-ASCII escaped, cut to ``limit``.

    >>> printable("gateway;touch X\\n\\x1b[31m")
    "'gateway;touch X\\\\n\\\\x1b[31m'"
    >>> printable("x" * 80, limit=10)
    "'xxxxxxxxxx…'"
    """
    text = ascii(value)[1:-1] if isinstance(value, str) else ascii(value)
    text = text[:limit] + "…" if len(text) > limit else text
    return f"'{text}'" if quote and isinstance(value, str) else text
