"""PostgreSQL: extensions, roles and settings the stack depends on."""

import pytest


@pytest.mark.control("PG-01", severity="medium", claims=["P1", "L1", "N4"])
def test_required_extension_installed(stack, pg_admin, extension):
    """The extensions the profile requires are installed in the application database.

    Rationale: schema, search and auditing code call these extensions (UUID keys,
    bcrypt hashes, trigram search, query statistics). A missing one fails at run time,
    often on the first request that needs it, rather than at deploy time.
    """
    database = stack.profile.postgres.database
    row = pg_admin.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                           (extension,)).fetchone()
    assert row, f"extension {extension}: expected installed in database {database}, found missing"
