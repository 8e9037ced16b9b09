"""Memory arithmetic, healthcheck commands and image pinning."""

import pytest

from infra_conformance.images import base_images, unpinned
from infra_conformance.measure import memory_bytes
from infra_conformance.startup import healthcheck_argv


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


@pytest.mark.parametrize("reference, pinned", [
    ("debian:bookworm-slim", True),
    ("registry.example:5000/team/app:1.4.2", True),
    ("nginx@sha256:" + "a" * 64, True),
    ("nginx", False),
    ("registry.example:5000/team/app", False),
    ("debian:latest", False),
    ("debian:stable", False),
])
def test_pinned_references(reference, pinned):
    assert (unpinned(reference) is None) == pinned


def test_base_images_resolve_args_and_skip_own_stages():
    dockerfile = ("ARG BASE=debian:bookworm-slim\nFROM ${BASE} AS build\nFROM build\n"
                  "FROM scratch\nFROM --platform=x nginx\n")
    assert base_images(dockerfile) == ["debian:bookworm-slim", "nginx"]
