"""The ways a run ends early, each with one printable line: bad input (exit 4), an unusable machine (exit 3),
or a stack whose own configuration keeps it from starting (exit 1, a finding)."""

from __future__ import annotations

USAGE_EXIT = 4  # bad input: a profile key, an option, a missing overlay
ENV_EXIT = 3  # the environment is not usable: no engine, a port in use
FINDING_EXIT = 1  # the stack breaks a control before it even starts


class Problem(Exception):
    """Ends the run with ``exit_code`` and one line; the message is already printable."""

    exit_code = ENV_EXIT


class UsageProblem(Problem):
    exit_code = USAGE_EXIT


class EnvironmentProblem(Problem):
    exit_code = ENV_EXIT


class StackFinding(Problem):
    """The stack did not start because of its own configuration: the control that proves a healthy start fails
    for ``case``, the service compose named."""

    exit_code = FINDING_EXIT

    def __init__(self, detail: str, case: str, control: str = "a healthy start"):
        super().__init__(f"the stack did not start, so {control}[{case}] fails: {detail}")
        self.detail, self.case, self.control = detail, case, control

    def naming(self, control: str) -> StackFinding:
        """The same finding, naming the suite's control that judges it.

        >>> str(StackFinding("container p-api-1 is unhealthy", "api").naming("CTR-08"))
        'the stack did not start, so CTR-08[api] fails: container p-api-1 is unhealthy'
        """
        return StackFinding(self.detail, self.case, control)


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
