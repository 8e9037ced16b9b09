"""How often a CPU quota froze each service over a window: the engine's throttling counters, per service.

A quota lets a service run at full speed, then freezes it until the next CFS period. The engine reports, for each
container (cgroup v1 and v2 alike), the periods it had work in, the periods it was frozen in and the time frozen.
A request that reaches a frozen service waits for the next period. When a service was frozen for more than 5 % of a
window (``DOMINATED_SHARE``), more than 5 % of the requests to it can meet a freeze, so the window's p95 measures
the quota's freezes as much as the stack, and a latency budget says so.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra_conformance.engine.daemon import service_of

DOMINATED_SHARE = 0.05  # of the window's time, frozen: the share of requests beyond a p95


@dataclass(frozen=True)
class Counters:
    """A container's cumulative throttling counters."""

    periods: int = 0
    throttled_periods: int = 0
    throttled_ns: int = 0

    @classmethod
    def of(cls, stats: dict) -> Counters:
        data = stats.get("cpu_stats", {}).get("throttling_data") or {}
        return cls(data.get("periods", 0), data.get("throttled_periods", 0), data.get("throttled_time", 0))


def per_service(containers, stats: list[dict]) -> dict[str, Counters]:
    """Each service's counters, from ``stats`` read for ``containers`` in the same order."""
    return {service_of(container): Counters.of(found) for container, found in zip(containers, stats, strict=True)}


def over(start: dict[str, Counters], end: dict[str, Counters], window_s: float = 0.0) -> dict[str, dict]:
    """Each service's throttling between two readings ``window_s`` apart; services without a CPU quota (no periods)
    are left out.

    >>> over({"api": Counters(100, 10, 10**9)}, {"api": Counters(300, 80, 9 * 10**9), "redis": Counters()}, 40)
    {'api': {'periods': 200, 'throttled_periods': 70, 'throttled_s': 8.0, 'throttled_share': 0.35, 'frozen_share': 0.2}}
    """
    found = {}
    for service, last in sorted(end.items()):
        first = start.get(service, Counters())
        periods = last.periods - first.periods
        if periods <= 0:
            continue
        throttled = last.throttled_periods - first.throttled_periods
        found[service] = {"periods": periods, "throttled_periods": throttled,
                          "throttled_s": round((last.throttled_ns - first.throttled_ns) / 1e9, 2),
                          "throttled_share": round(throttled / periods, 3)}
        if window_s > 0:
            found[service]["frozen_share"] = round(found[service]["throttled_s"] / window_s, 3)
    return found


def dominated(throttling: dict[str, dict]) -> list[str]:
    """The services frozen for more than ``DOMINATED_SHARE`` of the window.

    >>> dominated({"api": {"frozen_share": 0.075}, "redis": {"frozen_share": 0.003}, "gateway": {}})
    ['api']
    """
    return [service for service, found in throttling.items() if found.get("frozen_share", 0) > DOMINATED_SHARE]


def describe(throttling: dict[str, dict]) -> str:
    """One phrase: the services that were frozen at all, most frozen first.

    >>> describe({"api": {"throttled_periods": 70, "throttled_share": 0.35, "throttled_s": 8.0, "frozen_share": 0.2},
    ...           "redis": {"throttled_periods": 0, "throttled_share": 0.0, "throttled_s": 0.0}})
    'CPU quota froze api in 35 % of its periods (8 s, 20 % of the window)'
    >>> describe({"redis": {"throttled_periods": 0, "throttled_share": 0.0, "throttled_s": 0.0}})
    'no service frozen by its CPU quota'
    """
    frozen = sorted(((s, f) for s, f in throttling.items() if f["throttled_periods"]),
                    key=lambda item: -item[1]["throttled_share"])
    if not frozen:
        return "no service frozen by its CPU quota"
    return "CPU quota froze " + ", ".join(
        f"{service} in {found['throttled_share'] * 100:.0f} % of its periods ({found['throttled_s']:g} s"
        + (f", {found['frozen_share'] * 100:.0f} % of the window" if "frozen_share" in found else "") + ")"
        for service, found in frozen)
