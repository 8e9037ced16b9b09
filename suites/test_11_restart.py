"""The whole stack taken down and up again, as an update or a reboot does: every row kept, logins working.

``destructive``: it runs after every control that is not (``fixtures.collection.run_order``), because the session's
database connection does not survive it and the stack's published ports change.
"""

import pytest

from infra_conformance.plugins.clients import assert_tables_as_before
from infra_conformance.plugins.http_clients import assert_login_works, create_probe_row


@pytest.mark.destructive
@pytest.mark.control("RES-03", severity="high", claims=["N5", "Z2", "Z11"])
def test_stack_stopped_and_started_keeps_its_data(stack, checksums_now, http, record_property):
    """The whole stack taken down (without its volumes) and up again: every table's rows unchanged, logins work.

    Rationale: an update, a reboot or `docker compose down` recreates every container. Data kept in a
    container's own layer or on a tmpfs vanishes then, silently. The suite writes a row through the API,
    takes each table's row count and checksum, runs `down` and `up`, and compares.

    Covers: every table, row for row.

    Fix: Keep every data directory on a named volume (`volumes: [pgdata:/var/lib/postgresql/data]`), never on
    a tmpfs or in the container.

    References: https://docs.docker.com/engine/storage/volumes/; https://docs.docker.com/reference/cli/docker/compose/down/
    """
    api = stack.profile.api
    if api and api.probe_body and "POST" in api.method_roles:
        create_probe_row(stack, http)
    before = checksums_now()
    assert any(rows for rows, _ in before.values()), "the database holds no rows: there is nothing to compare"
    stack.recreate()
    assert_tables_as_before(before, checksums_now(), record_property, "down and up")
    if api:
        assert_login_works(stack, http)
