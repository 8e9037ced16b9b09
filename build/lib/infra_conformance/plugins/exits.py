"""A run that cannot go on ends with one bare line and its exit code, after every cleanup has run."""

from __future__ import annotations

import sys

import pytest

from infra_conformance.errors import Problem, StackFinding
from infra_conformance.plugins.collection import CATALOGUE_KEY

PREFIX = "conformance: "
FINDING_KEY = pytest.StashKey[StackFinding]()  # for the report: the control a stack that did not start breaks


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    """Turn a Problem raised while setting up a fixture into the end of the session."""
    try:
        return (yield)
    except Problem as problem:
        if isinstance(problem, StackFinding):
            catalogue = request.config.stash.get(CATALOGUE_KEY, {})
            judge = next((c.id for c in catalogue.values() if c.proves == "healthy start"), None)
            problem = problem.naming(judge) if judge else problem
            request.config.stash[FINDING_KEY] = problem
        stop(problem)


def stop(problem: Problem) -> None:
    """End the session now with the problem's one line and exit code (also from inside a test)."""
    pytest.exit(PREFIX + str(problem), returncode=problem.exit_code)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """Print the exit's line bare, instead of pytest's ``!!! _pytest.outcomes.Exit: … !!!`` banner."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    memo = getattr(reporter, "_keyboardinterrupt_memo", None)
    crash = getattr(memo, "reprcrash", None)
    message = crash.message.partition(": ")[2] if crash else ""
    if message.startswith(PREFIX):
        reporter._keyboardinterrupt_memo = None
        if not hasattr(config, "workerinput"):  # an xdist worker's line is the controller's to print
            sys.stderr.write(message + "\n")
