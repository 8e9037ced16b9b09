"""The pytest11 entry point: loads the suite's plugins only into a session that asks for them with ``--stack-dir``.

Installed, the distribution is seen by every pytest session in its environment. A session that does not name a stack
gets nothing from it: no option, no hook, no fixture, no change to collection. One that does (``conformance run``, or
``pytest --stack-dir DIR ...``) gets ``infra_conformance.plugins``, as a root ``conftest.py`` would load them: after
every entry point, so that their fixtures replace pytest-docker's (``-p infra_conformance.plugins`` would load them
before it, and lose).
"""

from __future__ import annotations

import importlib

import pytest

PLUGINS = "infra_conformance.plugins"
ASKS = "--stack-dir"


def asks_for_the_suite(args: list[str]) -> bool:
    """Whether a command line names a stack.

    >>> asks_for_the_suite(["-q", "--stack-dir", "."]), asks_for_the_suite(["--stack-dir=."]), asks_for_the_suite([])
    (True, True, False)
    """
    return any(arg == ASKS or arg.startswith(ASKS + "=") for arg in args)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    if asks_for_the_suite(args) and not early_config.pluginmanager.has_plugin(PLUGINS):
        # This package is imported already (this module is in it): registered as it is, it loads its plugins.
        early_config.pluginmanager.register(importlib.import_module(PLUGINS), PLUGINS)
