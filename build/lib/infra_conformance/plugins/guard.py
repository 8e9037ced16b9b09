"""What the suite may do to a stack it did not start: with --reuse-stack on such a project, no destructive control
runs and no login is added, unless --allow-destructive; the controls left out are not checked."""

from __future__ import annotations

import docker
import pytest

from infra_conformance.engine import reuse
from infra_conformance.engine.compose import project_filter
from infra_conformance.plugins.options import OPTIONS_KEY

FOREIGN_KEY = pytest.StashKey[bool]()  # --reuse-stack names a project that the suite did not start
NOT_OURS = ("not checked: --reuse-stack names a project the suite did not start, so it neither kills, restarts nor "
            "restores its services nor adds logins to it (--allow-destructive does)")


def is_foreign(config) -> bool:
    return config.stash.get(FOREIGN_KEY, False)


def pytest_collection_modifyitems(config, items):
    """Mark the destructive controls skipped before any fixture is set up, so that nothing touches the stack."""
    options = config.stash.get(OPTIONS_KEY, None)
    if not options or not options.reuse_stack or options.allow_destructive:
        return
    try:
        client = docker.from_env()
        containers = client.containers.list(filters=project_filter(options.reuse_stack))
    except docker.errors.DockerException:
        return  # the engine fixture says why, in one line
    config.stash[FOREIGN_KEY] = bool(containers) and not reuse.started_by_suite(containers, options.reuse_stack)
    if config.stash[FOREIGN_KEY]:
        for item in items:
            if item.get_closest_marker("destructive"):
                item.add_marker(pytest.mark.skip(reason=NOT_OURS))
