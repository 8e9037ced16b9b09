"""How much of the host's CPU went to anything but the stack, the load generator, the suite and the engine while a
budget was measured, and whether that was too much to judge the budget.

The host's busy time comes from ``/proc/stat``; the stack's from each container's cgroup
(through the engine); the load generator's and the suite's from ``getrusage``; the engine's
(dockerd, containerd, its shims, docker-proxy) from ``/proc/<pid>/stat``. What remains is
other work, plus the time the hypervisor stole. Steal is also read on the stack's own CPUs: under Pi
emulation the stack is pinned to them, and a share stolen there slows it even when the host as a whole
looks quiet.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import dataclass, field
from pathlib import Path

from infra_conformance.engine.daemon import stats_now
from infra_conformance.measure.budgets import Budget
from infra_conformance.measure.throttling import Counters, per_service

THRESHOLD_CORES = 0.5  # half a core, other work and steal together: docs/budgets.md says why
STACK_STEAL_SHARE = 0.10  # of the stack's CPUs' time: docs/budgets.md gives the runs that set it
LATENCY_STEAL_SHARE = 0.03  # latency follows steal: above this share the API p95 moved by more than ±20 % run to run
ENGINE_PROCESSES = ("dockerd", "containerd", "containerd-shim", "containerd-shim-runc-v2", "docker-proxy")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    """Cumulative CPU seconds at one moment."""

    at: float
    busy_s: float
    steal_s: float
    suite_s: float
    children_s: float
    engine_s: float
    stack_s: float
    stack_cpus_steal_s: float = 0.0  # steal on the CPUs the stack runs on
    stack_cpus: int = 1
    throttling: dict[str, Counters] = field(default_factory=dict)  # per service, from the same stats


@dataclass(frozen=True)
class Contention:
    """CPU that went elsewhere during a measurement, in host cores averaged over its window."""

    window_s: float
    other_cores: float
    steal_cores: float
    stack_cores: float
    generator_cores: float
    threshold_cores: float = THRESHOLD_CORES
    stack_steal_share: float = 0.0
    threshold_stack_steal: float = STACK_STEAL_SHARE

    @property
    def too_busy(self) -> bool:
        return (self.other_cores + self.steal_cores > self.threshold_cores
                or self.stack_steal_share > self.threshold_stack_steal)

    def as_dict(self) -> dict:
        return {"other_cores": round(self.other_cores, 3), "steal_cores": round(self.steal_cores, 3),
                "stack_cores": round(self.stack_cores, 3), "generator_cores": round(self.generator_cores, 3),
                "stack_steal_share": round(self.stack_steal_share, 3), "window_s": round(self.window_s, 1),
                "threshold_cores": self.threshold_cores, "threshold_stack_steal": self.threshold_stack_steal}

    def record(self) -> dict:
        """What a budget keeps in its conditions: the figures, the verdict and the line that says them."""
        return {**self.as_dict(), "too_busy": self.too_busy, "summary": self.describe()}

    def describe(self) -> str:
        """One line.

        >>> Contention(60, 0.61, 0.02, 1.1, 0.3, stack_steal_share=0.01).describe().split(" over ")
        ["other processes used 0.61 cores and the hypervisor stole 0.02 (1 % of the stack's CPUs)", \
'60 s (thresholds 0.5 cores, 10 %)']
        """
        return (f"other processes used {self.other_cores:.2f} cores and the hypervisor stole "
                f"{self.steal_cores:.2f} ({self.stack_steal_share * 100:.0f} % of the stack's CPUs) over "
                f"{self.window_s:.0f} s (thresholds {self.threshold_cores:g} cores, "
                f"{self.threshold_stack_steal * 100:.0f} %)")


def unjudgeable(budget: Budget, found: dict | None, busy_flatters: bool = False) -> str:
    """Why ``budget``, measured under the contention ``found``, cannot be judged; empty when it can.

    A busy host only makes a stack look slower: a pass stands, unless ``busy_flatters`` (CPU use, which a starved
    stack under-reports). A latency figure recorded as ``blurred`` (more than ``LATENCY_STEAL_SHARE`` of the
    stack's CPUs stolen, see ``blurs``) moves by more than a baseline's tolerance, so failing only its baseline
    there is no verdict either.

    >>> quiet, stolen = Contention(60, 0, 0.01, 1, 0.3).record(), Contention(60, 0, 0.05, 1, 0.3, 0.5, 0.05).record()
    >>> regressed = Budget.judge("API p95", 40, 200, "ms", {}, baseline=30, max_regression_percent=20)
    >>> unjudgeable(regressed, {**quiet, "blurred": False}), unjudgeable(regressed, stolen)
    ('', '')
    >>> print(unjudgeable(regressed, {**stolen, "blurred": True}))  # doctest: +NORMALIZE_WHITESPACE
    the host was too busy to judge API p95 against its baseline: the hypervisor stole 5 % of the stack's CPUs,
    and above 3 % this figure moves by more than 20 % run to run; run the budgets on a quiet machine
    (docs/budgets.md)
    """
    found = found or {}
    if found.get("too_busy") and (busy_flatters or not budget.passed):
        return (f"the host was too busy to judge {budget.name}: {found['summary']}; run the budgets on a quiet "
                "machine, or raise --max-contention (docs/budgets.md)")
    if found.get("blurred") and budget.within_limit and not budget.passed:
        return (f"the host was too busy to judge {budget.name} against its baseline: the hypervisor stole "
                f"{found['stack_steal_share'] * 100:.0f} % of the stack's CPUs, and above "
                f"{LATENCY_STEAL_SHARE * 100:.0f} % this figure moves by more than 20 % run to run; run the budgets "
                "on a quiet machine (docs/budgets.md)")
    return ""


def blurs(found: dict) -> bool:
    """Whether the hypervisor took more than ``LATENCY_STEAL_SHARE`` of the stack's CPUs during a measurement, too
    much for a latency figure to be compared run to run; one that was not measured (the engine on another host) is
    taken as it is.

    >>> blurs(Contention(60, 0.0, 0.05, 1.0, 0.3, stack_steal_share=0.05).record()), blurs({"measured": False})
    (True, False)
    """
    return "summary" in found and found["stack_steal_share"] > LATENCY_STEAL_SHARE


def measure(start: Sample, end: Sample, threshold_cores: float = THRESHOLD_CORES) -> Contention:
    """What went elsewhere between two samples.

    >>> a = Sample(0, busy_s=100, steal_s=1, suite_s=5, children_s=2, engine_s=10, stack_s=50)
    >>> measure(a, Sample(10, busy_s=120, steal_s=1, suite_s=6, children_s=5, engine_s=11, stack_s=60)).other_cores
    0.5
    """
    window = max(end.at - start.at, 1e-6)
    known = sum(getattr(end, name) - getattr(start, name) for name in ("suite_s", "children_s", "engine_s", "stack_s"))
    other = max(0.0, end.busy_s - start.busy_s - known)
    stack_steal = (end.stack_cpus_steal_s - start.stack_cpus_steal_s) / (window * max(end.stack_cpus, 1))
    return Contention(window, other / window, (end.steal_s - start.steal_s) / window,
                      (end.stack_s - start.stack_s) / window, (end.children_s - start.children_s) / window,
                      threshold_cores, stack_steal)


def sample(containers, stack_cpus: str = "") -> Sample:
    """Now, on this host; ``containers`` are the stack's (their cgroups' CPU, from the engine), ``stack_cpus`` the
    CPUs it is pinned to (a cpuset list such as ``1-4``; empty: every CPU)."""
    containers = list(containers)
    stats = stats_now(containers)
    lines = [line.split() for line in Path("/proc/stat").read_text().splitlines() if line.startswith("cpu")]
    user, nice, system, _idle, _iowait, irq, softirq, steal = ([int(v) for v in lines[0][1:]] + [0] * 8)[:8]
    per_cpu = {int(line[0][3:]): int(line[8]) if len(line) > 8 else 0 for line in lines[1:]}
    wanted = cpu_list(stack_cpus) or sorted(per_cpu)
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return Sample(at=time.monotonic(), busy_s=(user + nice + system + irq + softirq) / TICK, steal_s=steal / TICK,
                  suite_s=own.ru_utime + own.ru_stime, children_s=children.ru_utime + children.ru_stime,
                  engine_s=_engine_seconds(), stack_s=sum(map(_cpu_seconds, stats)),
                  stack_cpus_steal_s=sum(per_cpu.get(cpu, 0) for cpu in wanted) / TICK, stack_cpus=len(wanted),
                  throttling=per_service(containers, stats))


def cpu_list(cpuset: str) -> list[int]:
    """The CPUs of a cpuset list.

    >>> cpu_list("1-3,6"), cpu_list("")
    ([1, 2, 3, 6], [])
    """
    found = []
    for part in filter(None, cpuset.split(",")):
        first, _, last = part.partition("-")
        found += range(int(first), int(last or first) + 1)
    return found


def _engine_seconds() -> float:
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended meanwhile
            continue
        comm, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 1:].split()
        if comm.startswith(ENGINE_PROCESSES):
            total += (int(rest[11]) + int(rest[12])) / TICK
    return total


def _cpu_seconds(stats: dict) -> float:
    return stats.get("cpu_stats", {}).get("cpu_usage", {}).get("total_usage", 0) / 1e9
