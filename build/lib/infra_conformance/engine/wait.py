"""Polling with a deadline, ending in a hint when it runs out."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    pass


def wait_for(attempt: Callable[[], T], what: str, *, errors: tuple = (Exception,),
             timeout_s: float = 30, poll_s: float = 0.25, hint: str = "") -> T:
    """Call ``attempt`` until it returns without one of ``errors``; raise WaitTimeout at the deadline.

    >>> wait_for(lambda: 42, "the answer")
    42
    """
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return attempt()
        except errors as error:
            if time.monotonic() >= deadline:
                message = f"{what} not ready after {timeout_s:g} s: {error}"
                raise WaitTimeout(message + (f". Hint: {hint}" if hint else "")) from error
        time.sleep(poll_s)
