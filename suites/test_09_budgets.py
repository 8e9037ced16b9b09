"""Budgets: a Raspberry Pi 4 must be able to run the stack (claim N7)."""

import pytest

from fixtures.measure import memory_bytes

MIB = 1024 * 1024


@pytest.mark.pi
@pytest.mark.control("BUD-01", severity="high", claims=["N7", "N8"])
def test_startup_within_budget(stack, record_budget):
    """The whole stack is healthy within the start-up budget.

    Rationale: a Pi reboots after power cuts and updates; the services must be back
    before users notice. Time runs from the `up` call until each service's own
    healthcheck first passes, polled by the suite so that healthcheck intervals do
    not inflate it.
    """
    missing = sorted(set(stack.profile.services) - set(stack.startup_s))
    assert not missing, f"start-up: never saw {', '.join(missing)} become ready"
    measured = max(stack.startup_s.values())
    passed, message = record_budget("startup", measured, stack.profile.budgets.startup_s, "s",
                                    details=stack.startup_s, build_s=round(stack.build_s, 2))
    assert passed, f"{message} (slowest: {max(stack.startup_s, key=stack.startup_s.get)})"


@pytest.mark.pi
@pytest.mark.control("BUD-02", severity="high", claims=["N7"])
def test_idle_memory_within_budget(stack, record_budget):
    """The stack's containers together use less memory than the budget at idle.

    Rationale: a Pi 4 shares its RAM with the OS and other services; a stack that
    needs more than its budget at rest swaps or is killed under load. Memory is
    counted as `docker stats` does: usage minus inactive page cache.
    """
    per_service = {}
    for container in stack.client.containers.list(filters={"label": f"com.docker.compose.project={stack.project}"}):
        used = memory_bytes(container.stats(stream=False))
        service = container.labels["com.docker.compose.service"]
        per_service[service] = per_service.get(service, 0) + used
    zero = sorted(s for s, used in per_service.items() if used == 0)
    assert not zero, (f"memory: the engine reports 0 B for {', '.join(zero)}; memory accounting is off. "
                      "Hint: on a Pi add 'cgroup_enable=memory cgroup_memory=1' to /boot/firmware/cmdline.txt")
    total_mib = sum(per_service.values()) / MIB
    passed, message = record_budget("idle_memory", total_mib, stack.profile.budgets.memory_mb, "MiB",
                                    details={s: round(b / MIB, 1) for s, b in per_service.items()})
    assert passed, f"{message} (largest: {max(per_service, key=per_service.get)})"
