"""Memory arithmetic and healthcheck commands."""

import pytest

from fixtures.measure import memory_bytes
from fixtures.startup import healthcheck_argv


@pytest.mark.parametrize("stats, expected", [
    ({"memory_stats": {"usage": 1000, "stats": {"inactive_file": 300}}}, 700),  # cgroup v2
    ({"memory_stats": {"usage": 1000, "stats": {"total_inactive_file": 200, "inactive_file": 50}}}, 800),  # v1
    ({"memory_stats": {"usage": 100, "stats": {"inactive_file": 300}}}, 100),  # cache above usage
    ({"memory_stats": {}}, 0),  # no memory accounting
    ({}, 0),
])
def test_memory_as_docker_stats_counts_it(stats, expected):
    assert memory_bytes(stats) == expected


@pytest.mark.parametrize("test, argv", [
    (["CMD", "pg_isready", "-q"], ["pg_isready", "-q"]),
    (["CMD-SHELL", "redis-cli ping"], ["/bin/sh", "-c", "redis-cli ping"]),
    (["NONE"], None),
    (None, None),
])
def test_healthcheck_argv(test, argv):
    assert healthcheck_argv(test) == argv
