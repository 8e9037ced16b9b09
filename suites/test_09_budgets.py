"""Budgets: a Raspberry Pi 4 must be able to run the stack (claims N7, P9)."""

import math
import time

import pytest

from infra_conformance.engine.daemon import service_of, stats_now
from infra_conformance.engine.hostconfig import MIB
from infra_conformance.measure import budgets
from infra_conformance.measure.emulation import PI4_CORES
from infra_conformance.measure.stats import memory_bytes
from infra_conformance.plugins.collection import skip_not_applicable

# Per DB query: with 50, one hiccup of the host moved the p95 of three sub-millisecond queries from 0.8 to 1.8 ms
# (docs/budgets.md); a slow query stops after DB_SAMPLE_S.
DB_SAMPLES, DB_SAMPLE_S = 200, 2.0


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


@pytest.mark.pi
@pytest.mark.control("BUD-01", severity="high", claims=["N7", "N8"])
def test_startup_within_budget(stack, record_budget, emulation_plan):
    """The whole stack is healthy within the start-up budget.

    Rationale: a Pi reboots after power cuts and updates; the services must be back
    before users notice. Time runs from the `up` call until each service's own
    healthcheck first passes, polled by the suite so that healthcheck intervals do
    not inflate it. Images are built before, and timed apart. Under time dilation the
    stack starts at the host's speed, and the time is multiplied by the speed ratio,
    waits included, so the figure errs slow.

    Fix: Make the slowest service ready sooner: smaller init work at start, shorter
    healthcheck `interval`, `depends_on: condition: service_started` where readiness is
    not needed.

    References: docs/budgets.md
    """
    if stack.conditions.get("reused_stack"):
        pytest.skip("not checked: a reused stack (--reuse-stack): its start-up was not measured in this run")
    missing = sorted(set(stack.profile.services) - set(stack.startup_s))
    assert not missing, f"start-up: never saw {', '.join(missing)} become ready"
    startup_s = {service: emulation_plan.dilated(s) for service, s in stack.startup_s.items()}
    budget = record_budget(budgets.STARTUP, max(startup_s.values()), details=startup_s, build_s=round(stack.build_s, 2),
                           fresh_volumes=True, throttling=stack.startup_throttling,
                           at_host_speed_s=max(stack.startup_s.values()))
    assert budget.passed, f"{budget.message}; slowest: {max(startup_s, key=startup_s.get)}"


@pytest.mark.pi
@pytest.mark.control("BUD-02", severity="high", claims=["N7"])
def test_idle_memory_within_budget(stack, record_budget):
    """The stack's containers together use less memory than the budget at idle.

    Rationale: a Pi 4 shares its RAM with the OS and other services; a stack that
    needs more than its budget at rest swaps or is killed under load. Memory is
    counted as `docker stats` does: usage minus inactive page cache.

    Fix: Lower the services' idle memory: fewer workers, smaller pools and caches (e.g.
    `shared_buffers`).

    References: docs/budgets.md
    """
    per_service, containers = {}, stack.containers(all=False)
    for container, stats in zip(containers, stats_now(containers), strict=True):
        service = service_of(container)
        per_service[service] = per_service.get(service, 0) + memory_bytes(stats)
    missing = sorted(set(stack.profile.services) - set(per_service))
    assert not missing, f"memory: no samples from {', '.join(missing)}: not running"
    zero = sorted(s for s, used in per_service.items() if used == 0)
    assert not zero, (f"memory: the engine reports 0 B for {', '.join(zero)}; memory accounting is off. "
                      "Hint: on a Pi add 'cgroup_enable=memory cgroup_memory=1' to /boot/firmware/cmdline.txt")
    total_mib = sum(per_service.values()) / MIB
    budget = record_budget(budgets.IDLE_MEMORY, total_mib,
                           details={s: round(b / MIB, 1) for s, b in per_service.items()})
    assert budget.passed, f"{budget.message}; largest: {max(per_service, key=per_service.get)}"


@pytest.mark.pi
@pytest.mark.load
@pytest.mark.control("BUD-03", severity="high", claims=["N7"])
def test_peak_memory_under_load_within_budget(stack, load_run, record_budget):
    """The stack's memory at its peak under load stays within the budget.

    Rationale: idle memory says little about a Pi under a hundred users: connection
    pools, worker buffers and caches grow with load. Each service's highest sample
    during the load run is added up, which is never below the true simultaneous peak.

    Fix: Bound memory under load: cap connection pools, worker counts and caches; see
    the per-service peaks.

    References: docs/budgets.md
    """
    result, sampler = load_run
    gaps = sampler.gaps(stack.profile.services)
    assert not gaps, f"memory under load: {'; '.join(gaps)}"
    zero = sorted(s for s, mib in sampler.peak_mib.items() if mib == 0)
    assert sampler.peak_mib and not zero, (
        f"memory under load: no non-zero sample for {', '.join(zero) or 'any service'}; memory accounting is off. "
        "Hint: on a Pi add 'cgroup_enable=memory cgroup_memory=1' to /boot/firmware/cmdline.txt")
    total = sum(sampler.peak_mib.values())
    budget = record_budget(budgets.LOAD_MEMORY, total, details={s: round(v, 1) for s, v in sampler.peak_mib.items()},
                           users=result.users, duration_s=result.duration_s, window=result.window)
    assert budget.passed, f"{budget.message}; largest: {max(sampler.peak_mib, key=sampler.peak_mib.get)}"


@pytest.mark.pi
@pytest.mark.load
@pytest.mark.control("BUD-04", severity="high", claims=["N7", "P9"])
def test_api_p95_under_load_within_budget(stack, load_run, record_budget):
    """Authenticated API calls through the gateway answer within the p95 budget under load, with no failures.

    Rationale: the budget is what a user of a Pi-hosted CRM feels. Locust runs the
    profile's scenario headless, from a CPU apart from the stack's, and its own CPU is
    recorded so that a saturated load generator is seen instead of a slow stack.

    Fix: Find the slow path (see the locust report and the DB query p95); add indexes,
    pool connections, cache sessions.

    References: docs/budgets.md
    """
    result, _ = load_run
    budget = record_budget(
        budgets.API_P95, result.p95_ms, users=result.users, duration_s=result.duration_s,
        window=result.window, rate_limited=result.rate_limited,
        details={"p50_ms": result.p50_ms, "requests": result.requests, "failures": result.failures,
                 "requests_per_s": result.rps, "generator_cpu_percent": result.generator_cpu_percent,
                 "files": result.files})
    generator = (f"; the load generator used {result.generator_cpu_percent:g} % of a core"
                 + (" and was saturated" if result.generator_cpu_percent > 90 else ""))
    assert budget.passed, budget.message + generator
    assert result.failures == 0, f"API: expected 0 failed requests, found {result.failures} of {result.requests}"


@pytest.mark.pi
@pytest.mark.control("BUD-05", severity="medium", claims=["N7", "P9"])
def test_db_query_p95_within_budget(stack, pg_app, record_budget, measuring, emulation_plan):
    """The API's typical queries, timed directly as the app role, answer within the p95 budget.

    Rationale: the database is the first thing to slow down on an SD card or a
    throttled CPU. Each of the profile's queries runs 200 times, or for 2 s when it is
    slower, inside a tenant-scoped transaction, timed from the suite over loopback, and
    multiplied by the speed ratio under time dilation.

    Fix: `EXPLAIN ANALYZE` the slow query; add the missing index or simplify the RLS
    policy.

    References: https://www.postgresql.org/docs/15/using-explain.html
    """
    if key := budgets.DB_QUERY_P95.missing(stack.profile):
        skip_not_applicable(key, f"the profile has no {budgets.written(key)}, which the DB query p95 budget needs")
    load = stack.profile.load
    timings = []
    with measuring() as window:
        for query in load.db_queries:
            until = time.monotonic() + DB_SAMPLE_S
            for _ in range(DB_SAMPLES):
                if time.monotonic() > until:
                    break
                with pg_app.transaction():
                    if load.db_setup:
                        pg_app.execute(load.db_setup)
                    started = time.perf_counter()
                    pg_app.execute(query).fetchall()
                    timings.append(emulation_plan.dilated((time.perf_counter() - started) * 1000))
    p95 = _percentile(timings, 0.95)
    budget = record_budget(budgets.DB_QUERY_P95, p95, details={"queries": len(load.db_queries), "samples": len(timings),
                                    "p50_ms": round(_percentile(timings, 0.5), 2)}, window=window)
    assert budget.passed, budget.message


@pytest.mark.pi
@pytest.mark.load
@pytest.mark.control("BUD-06", severity="medium", claims=["N7"])
def test_cpu_under_load_within_budget(stack, load_run, emulation_plan, record_budget):
    """The stack's average CPU under load stays within the budget, as a share of a Pi 4's four cores.

    Rationale: a Pi that runs the stack at its CPU limit has no headroom for backups,
    updates or a burst of users, and throttles when hot. Host CPU time is converted to
    Pi 4 cores with the sysbench calibration; under time dilation the load came that many
    times as fast, so the conversion is divided by it.

    Fix: Reduce CPU per request: fewer bcrypt rounds only if policy allows, cheaper
    queries, caching.

    References: docs/budgets.md
    """
    result, sampler = load_run
    assert not math.isnan(emulation_plan.pi_cores_per_host_core), (
        "CPU: no calibration to convert host CPU into Pi 4 cores; install sysbench (scripts/setup.sh)")
    unsampled = sorted(set(stack.profile.services) - set(sampler.cpu_cores))
    assert not unsampled, f"CPU under load: no CPU samples from {', '.join(unsampled)} at full load"
    pi_cores = {s: cores * emulation_plan.pi_cores_per_busy_host_core for s, cores in sampler.cpu_cores.items()}
    percent = 100 * sum(pi_cores.values()) / PI4_CORES
    budget = record_budget(budgets.CPU_UNDER_LOAD, percent, details={s: round(c, 3) for s, c in pi_cores.items()},
                           users=result.users, duration_s=result.duration_s, window=result.window)
    assert budget.passed, budget.message
