"""Container runtime: what the running containers do, not what their images say."""

import pytest


def _processes(container) -> list[dict]:
    """The container's processes as the engine sees them, with numeric UIDs (no tools in the image)."""
    top = container.top(ps_args="-o pid,uid,comm")
    return [dict(zip(top["Titles"], row, strict=True)) for row in top["Processes"]]


@pytest.mark.control("CTR-01", severity="high", claims=["Z6", "P5"])
def test_processes_run_as_profile_user(stack, container, service):
    """Every process of the service runs as the profile's non-root UID.

    Rationale: a process running as root inside a container turns any code execution
    bug into root on a shared kernel. The image's USER field says nothing about an
    entrypoint that never drops privileges, or a compose `user:` override, so the
    running processes are read from the engine.
    """
    expected = stack.profile.services[service].user
    processes = _processes(container)
    assert processes, f"{service}: the engine lists no processes; is the container running?"
    wrong = [f"{p['COMMAND']} (pid {p['PID']}) as uid {p['UID']}"
             for p in processes if int(p["UID"]) != expected]
    assert not wrong, f"{service}: expected every process as uid {expected}, found {', '.join(wrong)}"
