"""testinfra hosts: an inspector beside each service, in its network and PID namespaces (the image needs no tools).

>>> def test_listens(inspector):                   # its sockets, seen from the inspector
...     assert inspector.socket("tcp://0.0.0.0:8080").is_listening
"""

from __future__ import annotations

import contextlib

import pytest
import testinfra

from infra_conformance.engine.compose import SUITE_LABEL
from infra_conformance.engine.daemon import remove_images
from infra_conformance.engine.runfiles import INSPECTOR_DIR, INSPECTOR_REPOSITORY
from infra_conformance.plugins.guard import NOT_OURS, is_foreign


@pytest.fixture
def container(request, stack, service):
    """The docker SDK container of ``service``: the running one; or, for a service that this compose profile does
    not run (or a one-off job), its configuration in a container created and never started, never in a project
    that the suite did not start."""
    if not stack.containers(service) and is_foreign(request.config):
        pytest.skip(NOT_OURS)
    return stack.configured(service)


@pytest.fixture(scope="session")
def inspector_image(pytestconfig, stack, options) -> str:
    """The inspector image, built from debian:bookworm-slim (from the build cache after the first time) and
    tagged for this run and xdist worker, so that runs and workers side by side never take over or remove
    each other's; removed at the end unless --keep-images (its layers stay as build cache)."""
    worker = getattr(pytestconfig, "workerinput", {}).get("workerid")  # pytest-xdist's, when it runs the session
    tag = f"{INSPECTOR_REPOSITORY}:{stack.project}" + (f"-{worker}" if worker else "")
    stack.client.images.build(path=str(INSPECTOR_DIR), tag=tag, rm=True, labels={SUITE_LABEL: stack.project})
    yield tag
    if not options.keep_images:
        remove_images(stack.client, [tag])


@contextlib.contextmanager
def inspecting(stack, container, image: str, user: str | None = None):
    """A testinfra host in ``container``'s network and PID namespaces, removed afterwards; as ``user``
    ("uid:gid"), it may read the /proc entries of that user's processes without any capability."""
    helper = stack.client.containers.run(
        image, detach=True, network_mode=f"container:{container.id}", pid_mode=f"container:{container.id}",
        cap_drop=["ALL"], read_only=True, labels={SUITE_LABEL: stack.project}, user=user)
    try:
        yield testinfra.get_host(f"docker://{helper.id}")
    finally:
        helper.remove(force=True)


@pytest.fixture
def inspector(stack, container, inspector_image):
    """testinfra host that shares ``service``'s network and PID namespaces."""
    with inspecting(stack, container, inspector_image) as host:
        yield host
