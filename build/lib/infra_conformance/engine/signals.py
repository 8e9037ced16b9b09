"""SIGINT and SIGTERM around what a run creates: end the run cleanly, never in the middle of a cleanup."""

from __future__ import annotations

import contextlib
import signal

STOPPING = (signal.SIGINT, signal.SIGTERM)
_received: list[int] = []


def _interrupt(signum, frame):
    """The first SIGINT or SIGTERM ends the run; any later one is ignored, so that it cannot cut short the
    reports, the cleanup, or pytest's own account of the interruption."""
    _received.append(signum)
    for stopping in STOPPING:
        signal.signal(stopping, signal.SIG_IGN)
    raise KeyboardInterrupt(f"signal {signum}")


def install() -> dict:
    """SIGINT and SIGTERM end the run like Ctrl-C does, once, so that every cleanup runs; returns the previous
    handlers."""
    previous = {s: signal.getsignal(s) for s in STOPPING}
    for stopping in STOPPING:
        signal.signal(stopping, _interrupt)
    return previous


def uninstall(previous: dict) -> None:
    """Put back the handlers from before ``install``; after a stop signal, keep ignoring them until the process
    exits, so that a second Ctrl-C cannot interrupt pytest's own last cleanups either."""
    if not _received:
        restore(previous)


def restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)


@contextlib.contextmanager
def deferred():
    """Hold SIGINT and SIGTERM while a resource is created and its cleanup registered; deliver them after."""
    signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOPPING)


@contextlib.contextmanager
def ignored():
    """Ignore SIGINT and SIGTERM while a cleanup runs, so that a second Ctrl-C cannot cut it short.

    The commands the cleanup starts inherit the ignored signals, so they finish too.
    """
    previous = {s: signal.signal(s, signal.SIG_IGN) for s in STOPPING}
    try:
        yield
    finally:
        restore(previous)


def drop_unnumbered(error: BaseException) -> None:
    """Unlink the traceback entries without a line number from ``error`` and the exceptions chained to it.

    CPython 3.11 can leave one where a signal lands (an instruction without a location), and pytest's own
    account of the interruption then crashes with a traceback of its own (pytest-xdist #1196).
    """
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        entries, entry = [], error.__traceback__
        while entry is not None:
            entries += [entry] if entry.tb_lineno is not None else []
            entry = entry.tb_next
        for earlier, later in zip(entries, [*entries[1:], None], strict=True):
            earlier.tb_next = later
        error.__traceback__ = entries[0] if entries else None
        error = error.__cause__ or error.__context__
