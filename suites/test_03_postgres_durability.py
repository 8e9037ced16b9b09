"""PostgreSQL durability: the settings that decide whether a write it acknowledged survives a power cut."""

import pytest

from infra_conformance.plugins.collection import skip_not_applicable

# Each setting -> the values that keep an acknowledged write through a power cut. Every wal_sync_method that Linux
# offers flushes; the list refuses a value that this control does not know.
DURABLE = {"fsync": ("on",), "full_page_writes": ("on",), "data_sync_retry": ("off",),
           "synchronous_commit": ("on", "remote_apply", "remote_write", "local"),
           "wal_sync_method": ("fdatasync", "fsync", "open_datasync", "open_sync", "fsync_writethrough")}
SYNCHRONOUS_COMMIT_OFF = r"^synchronous_commit=(off|false|no|0)$"  # as ALTER ROLE ... SET stores it


@pytest.mark.control("PG-19", severity="high", claims=["Z11"])
def test_acknowledged_writes_survive_a_power_cut(stack, pg_admin, pg_app):
    """An acknowledged write survives a power cut: fsync, full_page_writes and synchronous_commit are on for the app.

    Rationale: with fsync off, a power cut can corrupt the whole cluster, not only lose
    the last writes; with full_page_writes off, a page half written at the cut cannot be
    repaired from the WAL; with synchronous_commit off, the server acknowledges a commit
    before its WAL is on disk, so the last writes the API confirmed are gone; with
    data_sync_retry on, a flush that failed is retried after the kernel may have dropped
    the data, and the server carries on as if it were written. These are a test
    database's settings, one `-c` away from production. synchronous_commit can also be
    set for a role or a database, so the control reads the settings in a session of the
    app role, where the API's writes commit, and every role's and database's own value.
    A service the profile promises ephemeral, such as a test database, keeps nothing on
    purpose: PRF-02 checks that it runs without durability, and CTR-22 that every other
    PostgreSQL server is ephemeral. A client can still turn synchronous_commit off for
    its own session, which no server view shows.

    Covers: the profile's database, in a session of the app role, and the
    synchronous_commit of every role and database (pg_db_role_setting).

    Fix: `fsync = on`, `full_page_writes = on`, `synchronous_commit = on` and
    `data_sync_retry = off` in postgresql.conf (the defaults), no `-c` that turns one off
    in the compose file, and `ALTER ROLE <role> RESET synchronous_commit;` for a role
    that sets it.

    References: https://www.postgresql.org/docs/15/wal-reliability.html;
    https://www.postgresql.org/docs/15/runtime-config-wal.html; https://www.postgresql.org/docs/15/non-durability.html
    """
    pg = stack.profile.postgres
    if stack.profile.every_service[pg.service].ephemeral:
        skip_not_applicable(f"services.{pg.service}.ephemeral", "the profile promises its database keeps nothing")
    found = dict(pg_app.execute("SELECT name, setting FROM pg_settings WHERE name = ANY(%s)",
                                (list(DURABLE),)).fetchall())
    session = [f"{name} {found.get(name, 'missing')} (expected {' or '.join(values)})"
               for name, values in DURABLE.items() if found.get(name) not in values]
    problems = [f"as role {pg.app_user}, {', '.join(session)}"] if session else []
    problems += [f"{where} sets {setting}" for where, setting in pg_admin.execute(
        "SELECT coalesce('role ' || r.rolname, 'every role') || ' in ' || coalesce('database ' || d.datname, "
        "'every database'), c FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole "
        "LEFT JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) AS c WHERE c ~* %s ORDER BY 1",
        (SYNCHRONOUS_COMMIT_OFF,)).fetchall()]
    assert not problems, f"{pg.service}: {'; '.join(problems)}"
