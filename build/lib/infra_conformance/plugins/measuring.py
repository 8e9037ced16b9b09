"""Budget results, recorded through a typed API, and the one load run that the load budgets share."""

from __future__ import annotations

import contextlib
import dataclasses
import time

import pytest

from infra_conformance.engine.daemon import stats_now
from infra_conformance.errors import EnvironmentProblem
from infra_conformance.measure import throttling
from infra_conformance.measure.budgets import Budget, Kind, Window
from infra_conformance.measure.contention import blurs, measure, sample, unjudgeable
from infra_conformance.measure.load import LoadError, StatsSampler, locust_argv, run_locust
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.plugins.exits import stop
from infra_conformance.plugins.options import BASELINE_KEY, OPTIONS_KEY
from infra_conformance.report.baseline import baseline_value

BUDGETS_KEY = pytest.StashKey[list[Budget]]()  # for the report, which reads the results from here
LOAD_KEY = pytest.StashKey[dict]()  # the load run's series over time, for the report's plots
EMULATED = "emulated architecture: timings are not meaningful"


@pytest.fixture(scope="session")
def record_budget(pytestconfig, stack):
    """``record_budget(kind, measured, details=None, window=None, **conditions)``: judge a budget of a kind
    from ``infra_conformance.measure.budgets`` against the profile's limit, and keep it.

    Returns the Budget; assert on ``budget.passed`` with ``budget.message``. Every budget
    skips on an emulated architecture. With ``window=`` (from ``measuring``), its conditions get the contention and
    each service's throttling over the window. A budget that cannot be judged under that contention
    (``contention.unjudgeable``) ends the run as an environment problem (exit 3) instead, as the kind says: busy
    flatters CPU use; latency follows steal (it records ``blurred``). A latency that a CPU quota froze for more
    than ``throttling.DOMINATED_SHARE`` of the window is recorded as uncertain.
    """
    if stack.platform.emulated:
        pytest.skip(EMULATED)
    results = pytestconfig.stash.setdefault(BUDGETS_KEY, [])
    earlier = pytestconfig.stash.get(BASELINE_KEY, None)
    max_regression = pytestconfig.stash[OPTIONS_KEY].max_regression

    def record(kind: Kind, measured: float, details: dict | None = None, window: Window | None = None,
               **conditions) -> Budget:
        latency = kind.contention == "follows steal"
        if window is not None:
            found = window.contention
            conditions["contention"] = {**found, "blurred": blurs(found)} if latency else found
            conditions["throttling"] = window.throttling
        if latency and (frozen := throttling.dominated(conditions.get("throttling", {}))):
            conditions["uncertain"] = (f"the CPU quota froze {', '.join(frozen)} for more than "
                                       f"{throttling.DOMINATED_SHARE:.0%} of the window, so the p95 measures the "
                                       "emulation's freezes as much as the stack (docs/budgets.md)")
        limit = getattr(stack.profile.budgets, kind.limit_key)
        budget = Budget.judge(kind.name, measured, limit, kind.unit, {**stack.conditions, **conditions}, details,
                              baseline_value(earlier, kind.name), max_regression)
        if why := unjudgeable(budget, conditions.get("contention"), kind.contention == "busy flatters"):
            stop(EnvironmentProblem(why))
        results.append(budget)
        return budget
    return record


@pytest.fixture(scope="session")
def measuring(stack, engine_host, options, emulation_plan):
    """``with measuring() as window: ...``: the host's CPU contention and each service's throttling during the block,
    filled into ``window`` when it ends, for ``record_budget(window=window)``."""
    @contextlib.contextmanager
    def watch():
        containers, window = stack.containers(all=False), Window()
        if engine_host.ssh:  # the host's CPU is not ours to read; the engine's throttling counters still are
            first, began = throttling.per_service(containers, stats_now(containers)), time.monotonic()
            yield window
            window.contention.update({"measured": False, "why": "the engine runs on another host"})
            window.throttling.update(throttling.over(first, throttling.per_service(containers, stats_now(containers)),
                                                     time.monotonic() - began))
            return
        cpus = emulation_plan.stack_cpus
        start = sample(containers, cpus)
        yield window
        end = sample(containers, cpus)
        window.contention.update(measure(start, end, options.max_contention).record())
        window.throttling.update(throttling.over(start.throttling, end.throttling, end.at - start.at))
    return watch


@pytest.fixture(scope="session")
def load_run(pytestconfig, stack, gateway_url, emulation_plan, options, progress, measuring):
    """Runs the profile's locustfile once, headless, with the engine's stats sampled meanwhile.

    A locust run that breaks (a non-zero exit, a timeout, no statistics) fails every
    budget that uses it, with the reason.
    """
    load = stack.profile.load
    if stack.platform.emulated:
        pytest.skip(EMULATED)
    if load is None:
        skip_not_applicable("load", "the profile has no [load] section")
    prefix = options.reports_dir / "locust"
    prefix.parent.mkdir(parents=True, exist_ok=True)
    ramp_s = load.users / load.spawn_rate
    argv = locust_argv(stack.profile.locustfile, gateway_url, load.users, load.spawn_rate,
                       round(ramp_s) + load.duration_s, prefix, emulation_plan.load_cpus, options.load_workers)
    env = {**load.env, **{variable: stack.secret(secret) for variable, secret in load.secrets_env.items()}}
    workers = f" from {options.load_workers} locust workers" if options.load_workers else ""
    progress(f"load: {load.users} users arriving at {load.spawn_rate:g}/s{workers}, "
             f"then {load.duration_s} s at full load")
    try:
        with StatsSampler(stack.containers(all=False), cpu_after_s=ramp_s) as sampler, measuring() as window:
            result = run_locust(argv, env, load.users, load.duration_s, prefix, progress=progress)
    except LoadError as error:
        pytest.fail(f"load run: {error}", pytrace=False)
    result = dataclasses.replace(result, window=window)
    pytestconfig.stash[LOAD_KEY] = {"memory_mib": sampler.memory_series, "cpu_host_cores": sampler.cpu_series,
                                    "latency": result.history}
    return result, sampler
