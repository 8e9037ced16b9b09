"""Container limits and lifecycle: memory, CPU and swap ceilings, the budget they fit, healthchecks and restarts."""

import pytest

from infra_conformance.engine.hostconfig import MIB, swap_allowed
from infra_conformance.plugins.collection import skip_not_applicable

MAX_RESTARTS = 5


@pytest.mark.control("CTR-06", severity="medium", claims=["Z7", "P6"])
def test_memory_and_cpu_limits(stack, container, service, engine_limits_swap):
    """Memory and CPU limits are set, swap adds no more than the memory limit, and the OOM killer is on.

    Rationale: on a 4 GB Pi, one runaway service without limits takes the memory or
    CPU the others need, and the kernel's OOM killer picks the victim. `memswap_limit: -1`
    lets the limited service swap without bound, onto an SD card; with `oom_kill_disable`
    a service at its limit hangs instead of restarting. An engine on cgroup v2 discards
    `oom_kill_disable`, and one on cgroup v1 (an older Pi OS) keeps it, so the compose
    file's setting counts too: the same file reaches both.

    Fix: Set `mem_limit: 256m` and `cpus: 1.0` (or `deploy.resources.limits`); leave
    `memswap_limit` unset (as much swap as memory) or lower, and `oom_kill_disable` off.

    References: CIS Docker Benchmark v1.6.0 5.11 and 5.12; https://docs.docker.com/reference/compose-file/services/#mem_limit
    """
    host = dict(container.attrs["HostConfig"])
    assert host["Memory"] > 0, f"{service}: expected a memory limit, found none"
    assert host["NanoCpus"] > 0 or host["CpuQuota"] > 0, f"{service}: expected a CPU limit, found none"
    if not engine_limits_swap:  # the kernel has no swap accounting (often on a Pi): the
        # engine sets every container's swap to -1, so the declared limit is the evidence
        host["MemorySwap"] = stack.config["services"].get(service, {}).get("memswap_limit") or 0
    swap = swap_allowed(host)
    assert swap is not None and swap <= host["Memory"], (
        f"{service}: expected at most as much swap as memory ({host['Memory'] // MIB} MiB), found "
        + ("memswap_limit -1 (unlimited)" if swap is None else f"{swap // MIB} MiB"))
    declared = stack.config["services"].get(service, {}).get("oom_kill_disable")
    assert not (host.get("OomKillDisable") or declared), (
        f"{service}: expected the OOM killer on, found oom_kill_disable: true"
        + ("" if host.get("OomKillDisable") else " in the compose file (this engine discards it; one on cgroup v1 "
                                                 "would not)"))


@pytest.mark.control("CTR-07", severity="medium", claims=["Z7", "N7"])
def test_memory_limits_fit_budget(stack):
    """The memory limits of all services add up to no more than the RAM budget.

    Rationale: limits that add up to more than the device has are no limits at all:
    under load the services can together exhaust the host.

    Covers: the memory limit of every service.

    Fix: Lower the services' `mem_limit` until they add up to the profile's
    `budgets.memory_mb`.

    References: CIS Docker Benchmark v1.6.0 5.11; https://docs.docker.com/reference/compose-file/services/#mem_limit
    """
    limits = {s: stack.container(s).attrs["HostConfig"]["Memory"] / 2**20 for s in stack.profile.services}
    total, budget = sum(limits.values()), stack.profile.budgets.memory_mb
    assert total <= budget, (f"memory limits: expected a total of at most {budget:g} MiB, found {total:g} MiB ("
                             + ", ".join(f"{s} {v:g}" for s, v in limits.items()) + ")")


@pytest.mark.control("CTR-08", severity="medium", claims=["Z8", "N8", "P6", "L7"], proves="healthy start")
def test_healthcheck_defined_and_healthy(stack, container, service):
    """A healthcheck is defined and reports healthy.

    Rationale: without a healthcheck, dependants start against a service that is not
    ready and nothing notices when it stops answering. A service that this compose
    profile does not run is judged on its configuration: the healthcheck is defined.

    Fix: Add a `healthcheck:` with `test: ["CMD", ...]`, an `interval` of a few seconds
    (each check costs CPU) and `retries`, and fix what keeps it failing.

    References: CIS Docker Benchmark v1.6.0 4.6; https://docs.docker.com/reference/compose-file/services/#healthcheck
    """
    if stack.profile.every_service[service].job:
        skip_not_applicable(f"services.{service}.job", "a one-off job exits when done: it has no health to report")
    test = (container.attrs["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
    assert test[0] != "NONE", f"{service}: expected a healthcheck, found none"
    if container.status != "running":
        return  # judged on its configuration: a service of another compose profile has no health yet
    status = container.attrs["State"].get("Health", {}).get("Status")
    assert status == "healthy", f"{service}: expected healthy, found {status}"


@pytest.mark.control("CTR-09", severity="medium", claims=["Z9", "L7"])
def test_restart_policy(stack, container, service):
    """A restart policy is set, and an on-failure policy gives up after at most 5 retries.

    Rationale: after a crash or a power cut the service must come back by itself; on a
    Pi in a cupboard nobody is there to start it. A service that fails at every start
    must not restart forever and keep the host busy. A one-off job is not restarted.

    Fix: Set `restart: unless-stopped` (or `on-failure:5`).

    References: CIS Docker Benchmark v1.6.0 5.15; https://docs.docker.com/reference/compose-file/services/#restart
    """
    policy = container.attrs["HostConfig"]["RestartPolicy"]
    name, retries = policy["Name"] or "no", policy.get("MaximumRetryCount", 0)
    if stack.profile.every_service[service].job:  # done once it exits; restarted, it would run again and again
        assert name in ("no", "on-failure"), (
            f"{service} (a one-off job): expected restart no or on-failure, found {name}")
    else:
        assert name in ("always", "unless-stopped", "on-failure"), (
        f"{service}: expected restart always, unless-stopped or on-failure, found {name}")
    assert name != "on-failure" or 1 <= retries <= MAX_RESTARTS, (
        f"{service}: expected on-failure with 1 to {MAX_RESTARTS} retries, found {retries or 'no limit'}")
