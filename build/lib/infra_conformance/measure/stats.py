"""Resource arithmetic on the engine's raw stats."""

from __future__ import annotations


def memory_bytes(stats: dict) -> int:
    """Memory in use as ``docker stats`` counts it: usage minus inactive page cache.

    The same order as the docker CLI: cgroup v1 has ``total_inactive_file`` (and a
    non-hierarchical ``inactive_file``), cgroup v2 only ``inactive_file``. An engine
    without memory accounting reports no usage at all, which gives 0.

    >>> memory_bytes({"memory_stats": {"usage": 100, "stats": {"inactive_file": 30}}})
    70
    """
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage", 0)
    detail = memory.get("stats") or {}
    inactive = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return usage - inactive if inactive < usage else usage
