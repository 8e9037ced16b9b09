"""Memory arithmetic, healthcheck commands, image pinning and stop signals."""

import os
import signal
import time
import types

import pytest

from infra_conformance.engine import signals
from infra_conformance.engine.images import base_images, unpinned, unpinned_references
from infra_conformance.engine.startup import healthcheck_argv
from infra_conformance.measure.stats import memory_bytes


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


def test_unpinned_references_read_build_args_inline_dockerfiles_and_missing_ones(tmp_path):
    """compose's build args override an ARG's default; dockerfile_inline is read like a file; a Dockerfile that is
    not there, or a FROM whose argument has no value, leaves the base images unknown, which is not a pass."""
    (tmp_path / "Dockerfile").write_text("ARG BASE=debian:bookworm-slim\nFROM ${BASE}\n")
    assert unpinned_references({"build": {"context": str(tmp_path)}}) == []
    assert unpinned_references({"build": {"context": str(tmp_path), "args": {"BASE": "debian:latest"}}}) == [
        "Dockerfile FROM debian:latest uses the floating tag 'latest'"]
    assert unpinned_references({"build": {"context": str(tmp_path), "dockerfile_inline": "FROM redis\n"}}) == [
        "dockerfile_inline FROM redis has no tag, which means latest"]
    assert unpinned_references({"build": {"context": str(tmp_path / "gone")}}) == [
        f"build: {tmp_path / 'gone' / 'Dockerfile'} cannot be read, so its base images are unknown"]
    assert unpinned_references({"build": {"context": str(tmp_path), "dockerfile_inline": "ARG B\nFROM ${B}\n"}}) == [
        "dockerfile_inline FROM ${B} names a build argument with no value"]


def test_after_a_stop_signal_later_ones_stay_ignored_until_the_process_exits(monkeypatch):
    """A second Ctrl-C during pytest's last cleanups printed a KeyboardInterrupt traceback."""
    monkeypatch.setattr(signals, "_received", [])
    before = signal.getsignal(signal.SIGINT)
    previous = signals.install()
    signals.uninstall(previous)
    assert signal.getsignal(signal.SIGINT) is before  # no signal: the handlers are put back
    previous = signals.install()
    try:
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs between two bytecodes
        signals.uninstall(previous)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signals.restore(previous)


def test_traceback_entries_without_a_line_number_are_dropped():
    """CPython 3.11 can leave an entry without a line number where a signal lands; pytest crashes on it."""
    def interrupted():
        raise KeyboardInterrupt
    try:
        interrupted()
    except KeyboardInterrupt as caught:
        error = caught
    numbered = error.__traceback__
    lost = types.TracebackType(numbered.tb_next, numbered.tb_frame, 10**6, -1)  # an offset past the code
    error.__context__ = ValueError("during")
    error.__context__.__traceback__ = lost
    error.__traceback__ = types.TracebackType(lost, numbered.tb_frame, numbered.tb_lasti, -1)
    assert lost.tb_lineno is None
    signals.drop_unnumbered(error)
    for chained in (error, error.__context__):
        entries, entry = [], chained.__traceback__
        while entry is not None:
            entries.append(entry.tb_lineno)
            entry = entry.tb_next
        assert entries and None not in entries, entries
