"""What runs in the project: only the services the profile lists, and every data service described by its section."""

import pytest

from infra_conformance.engine import daemon
from infra_conformance.profile.scaffold import kind_of


@pytest.mark.control("CTR-18", severity="high", claims=["Z6", "P5"])
def test_only_profile_services_run(stack):
    """The project runs only the services that the profile lists, and its compose files, in every compose profile,
    define no other.

    Rationale: every container control runs once for each service in the profile. A
    service that the profile does not list (a debug sidecar, a forgotten admin tool, a
    one-off job behind a compose profile that is rarely used) is checked by none of
    them, so it would pass unseen.

    Covers: every service of every compose profile in the compose files, and every
    container of the project.

    Fix: Remove the service from the compose files, or list it in the profile's
    `[services]` with its user and ports, so that every control checks it.

    References: https://docs.docker.com/reference/compose-file/services/; CIS Docker Benchmark v1.6.0 5.9
    """
    running = {daemon.service_of(c) for c in stack.containers(all=False)}
    assert running, f"project {stack.project}: no running container to check"
    unlisted = sorted(running - set(stack.profile.services))
    assert not unlisted, f"expected only the profile's services, found unlisted: {', '.join(unlisted)}"
    defined = set(stack.config["services"]) - set(stack.access.values())  # the suite's forwarders are its own
    unlisted = sorted(defined - set(stack.profile.every_service))
    assert not unlisted, (f"expected the compose files to define only the profile's services, found unlisted: "
                          f"{', '.join(unlisted)} (in any compose profile)")


SECTIONS = {"postgres": "[postgres]", "redis": "[redis]", "nginx": "[api] with its gateway_service"}


@pytest.mark.control("CTR-22", severity="high", claims=["Z6", "P5"])
def test_every_data_service_is_described(stack):
    """A service that runs PostgreSQL, Redis or nginx is the one its kind's profile section describes, or ephemeral.

    Rationale: the PostgreSQL, Redis and gateway controls check the service their
    section names, and nothing else. A profile written by hand for a stack with a Redis
    server but no `[redis]` section runs no Redis control at all and says nothing; a
    second Redis beside the described one is never looked at either. Either way the
    server's users, persistence and dangerous commands go unchecked, and the run can pass.

    Covers: every running container of the project.

    Fix: Add the section the message names (`conformance init` writes it, commented, with
    TODOs for the users and secrets only you can name); for a second server of a kind, mark
    a throwaway one `ephemeral = true`, or waive the finding with its reason.

    References: docs/profile.md; docs/adopt.md
    """
    sections = {"postgres": stack.profile.postgres, "redis": stack.profile.redis, "nginx": stack.profile.api}
    described = {"postgres": getattr(sections["postgres"], "service", None),
                 "redis": getattr(sections["redis"], "service", None),
                 "nginx": getattr(sections["nginx"], "gateway_service", None)}
    found = []
    for container in stack.containers(all=False):
        service = daemon.service_of(container)
        processes = [args for _, args in container.top(ps_args="-o pid,args")["Processes"]]
        kind = kind_of({"image": container.attrs["Config"]["Image"], "command": processes})
        declared = stack.profile.every_service.get(service)
        if not kind or service == described[kind] or (declared and declared.ephemeral):
            continue
        found.append(f"{service} looks like {kind}, but " + (
            f"the profile has no {SECTIONS[kind]}" if sections[kind] is None
            else f"{SECTIONS[kind].split(' ')[0]} describes {described[kind]}") + f", so no {kind} control checks it")
    assert not found, "; ".join(sorted(found))
