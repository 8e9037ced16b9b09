"""PostgreSQL: version, extensions, authentication and TLS."""

import psycopg
import pytest

from infra_conformance.engine import daemon
from infra_conformance.plugins.collection import skip_not_applicable
from infra_conformance.probes import tls

WEAK_TCP_METHODS = ("trust", "password", "md5")


@pytest.mark.control("PG-01", severity="medium", claims=["P1", "L1", "N4"])
def test_required_extension_installed(stack, pg_admin, extension):
    """The extensions the profile requires are installed in the application database.

    Rationale: schema, search and auditing code call these extensions (UUID keys,
    bcrypt hashes, trigram search, query statistics). A missing one fails at run time,
    often on the first request that needs it, rather than at deploy time.

    Fix: `CREATE EXTENSION IF NOT EXISTS <name>;` in an init script, with
    `shared_preload_libraries` where the extension needs it.

    References: https://www.postgresql.org/docs/15/sql-createextension.html
    """
    database = stack.profile.postgres.database
    row = pg_admin.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                           (extension,)).fetchone()
    assert row, f"extension {extension}: expected installed in database {database}, found missing"


@pytest.mark.control("PG-02", severity="medium", claims=["N1"])
def test_server_version(stack, pg_admin):
    """The server's major version is at least the profile's.

    Rationale: the schema and the extensions are written for a version; an older
    server, from a stale image or a distribution default, lacks features and
    security fixes the stack relies on.

    Fix: Build from a newer PostgreSQL major version, e.g. `postgresql-16`.

    References: https://www.postgresql.org/docs/15/upgrading.html
    """
    expected = stack.profile.postgres.min_version
    version, number = pg_admin.execute(
        "SELECT current_setting('server_version'), current_setting('server_version_num')::int").fetchone()
    assert number // 10000 >= expected, f"server: expected PostgreSQL {expected} or later, found {version}"


@pytest.mark.control("PG-03", severity="low", claims=["P1", "L1"])
def test_pg_stat_statements_preloaded(stack, pg_admin):
    """pg_stat_statements is preloaded and can be queried.

    Rationale: the extension can be created without being loaded, and then every
    query of its view fails; the statistics that slow-query work depends on are
    only collected when the library is in shared_preload_libraries.

    Fix: `shared_preload_libraries = 'pg_stat_statements'` in postgresql.conf and
    `CREATE EXTENSION pg_stat_statements;`.

    References: https://www.postgresql.org/docs/15/pgstatstatements.html
    """
    if "pg_stat_statements" not in stack.profile.postgres.extensions:
        skip_not_applicable("postgres.extensions", "the profile does not require pg_stat_statements")
    preloaded = pg_admin.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
    assert "pg_stat_statements" in [name.strip() for name in preloaded.split(",")], (
        f"shared_preload_libraries: expected pg_stat_statements, found '{preloaded}'")
    try:
        pg_admin.execute("SELECT count(*) FROM pg_stat_statements").fetchone()
    except psycopg.Error as error:
        pytest.fail(f"pg_stat_statements: expected a readable view, found {type(error).__name__}: {error}")


@pytest.mark.control("PG-04", severity="high", claims=["P1", "Z1"])
def test_password_encryption_scram(pg_admin):
    """password_encryption is scram-sha-256.

    Rationale: with md5, every password set from now on is stored as an MD5 of
    password and user name: fast to crack, and enough by itself to log in with md5
    authentication, so a leaked catalogue or backup is a leaked password. A SCRAM
    verifier is neither.

    Fix: `password_encryption = scram-sha-256` in postgresql.conf, then reset each
    password.

    References: https://www.postgresql.org/docs/15/auth-password.html
    """
    setting = pg_admin.execute("SELECT current_setting('password_encryption')").fetchone()[0]
    assert setting == "scram-sha-256", f"password_encryption: expected scram-sha-256, found {setting}"


@pytest.mark.control("PG-05", severity="critical", claims=["Z1", "P1"])
def test_pg_hba_no_weak_tcp_methods(pg_admin):
    """pg_hba has no trust, password or md5 line for TCP connections.

    Rationale: trust lets anyone who reaches the port in as any role; password sends
    the password in clear; md5 makes the stored hash as good as the password. The
    rules are read from pg_hba_file_rules, the file the server actually loaded.

    Fix: Use `hostssl all all 0.0.0.0/0 scram-sha-256` in pg_hba.conf; no `trust`,
    `password` or `md5`.

    References: https://www.postgresql.org/docs/15/auth-pg-hba-conf.html
    """
    rows = pg_admin.execute(
        "SELECT line_number, type, database, user_name, address, auth_method FROM pg_hba_file_rules "
        "WHERE type LIKE 'host%%' AND auth_method = ANY(%s) ORDER BY line_number", (list(WEAK_TCP_METHODS),)).fetchall()
    found = [f"line {line}: {kind} {','.join(dbs)} {','.join(users)} {address or ''} {method}"
             for line, kind, dbs, users, address, method in rows]
    assert not found, f"pg_hba: expected no {', '.join(WEAK_TCP_METHODS)} for TCP, found {'; '.join(found)}"


@pytest.mark.control("PG-06", severity="high", claims=["Z1"])
def test_tls_connection(stack, pg_app_params, pg_admin, record_property):
    """TLS is on: a client that requires TLS connects encrypted, and so is every live client session over TCP.

    Rationale: credentials and tenant data cross the network between the API and the
    database; without TLS, anything on that network reads them. The reference stack
    makes a key and a self-signed certificate at each start, so none is in an image.
    A server that offers TLS says nothing of the clients that use it: a client that
    prefers TLS, libpq's default, falls back to plaintext without a word where a pg_hba
    line lets it. So the control also reads the sessions where the promise is kept, the
    API's pool first: pg_stat_ssl for each TCP session of pg_stat_activity, as the
    admin, leaving out the suite's own (from its forwarder's addresses). With no other
    session there is nothing to judge, and the case is not checked.

    Covers: every live TCP client session but the suite's, named by the service whose
    address it comes from.

    Fix: `ssl = on` with `ssl_cert_file` and `ssl_key_file` in postgresql.conf, only
    `hostssl` lines for TCP in pg_hba.conf, and `sslmode=require` (or `verify-full`) in
    every client's connection string.

    References: https://www.postgresql.org/docs/15/ssl-tcp.html;
    https://www.postgresql.org/docs/15/libpq-ssl.html#LIBPQ-SSL-PROTECTION;
    https://www.postgresql.org/docs/15/monitoring-stats.html#MONITORING-PG-STAT-SSL-VIEW
    """
    pg = stack.profile.postgres
    if not pg.tls:
        skip_not_applicable("postgres.tls", "the profile does not require TLS")
    try:
        with psycopg.connect(**pg_app_params, sslmode="require") as conn:
            ssl, version = conn.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
    except psycopg.OperationalError as error:
        pytest.fail(f"role {pg_app_params['user']}: expected a connection with sslmode=require, found "
                    f"{str(error).strip().splitlines()[-1]}")
    assert ssl, f"role {pg_app_params['user']}: expected an encrypted session, found ssl false"
    suite = _addresses(stack.container(stack.access[pg.service]))
    sessions = [row for row in pg_admin.execute(
        "SELECT host(a.client_addr), a.usename, a.application_name, coalesce(s.ssl, false) FROM pg_stat_activity a "
        "LEFT JOIN pg_stat_ssl s ON s.pid = a.pid WHERE a.client_addr IS NOT NULL").fetchall() if row[0] not in suite]
    if not sessions:
        pytest.skip(f"not checked: {pg.service} has no TCP client session but the suite's own, so none shows "
                    "whether its clients use TLS")
    record_property("tcp_sessions_checked", len(sessions))
    services = {address: daemon.service_of(c) for c in stack.containers(all=False) for address in _addresses(c)}
    plain = [f"{services.get(address, 'an unknown client')} ({address}) as {user}"
             + (f", application_name {application}" if application else "")
             for address, user, application, encrypted in sessions if not encrypted]
    assert not plain, (f"{pg.service}: expected each of its {len(sessions)} TCP client sessions encrypted, found "
                       f"{len(plain)} in plaintext: {'; '.join(sorted(set(plain)))}")


def _addresses(container) -> set[str]:
    """The container's addresses on each of its networks."""
    return {address for network in container.attrs["NetworkSettings"]["Networks"].values()
            for address in (network.get("IPAddress"), network.get("GlobalIPv6Address")) if address}


@pytest.mark.control("PG-07", severity="high", claims=["Z1"])
def test_plaintext_tcp_rejected(stack, pg_app_params):
    """A TCP connection without TLS is rejected.

    Rationale: TLS that clients may skip protects nothing: a client library that
    falls back, or a downgrade by someone on the path, sends the session in clear.
    Only hostssl lines must match TCP connections.

    Fix: Use `hostssl` instead of `host` lines in pg_hba.conf, and `hostnossl all all
    0.0.0.0/0 reject`.

    References: https://www.postgresql.org/docs/15/auth-pg-hba-conf.html
    """
    if not stack.profile.postgres.tls:
        skip_not_applicable("postgres.tls", "the profile does not require TLS")
    try:
        psycopg.connect(**pg_app_params, sslmode="disable").close()
    except psycopg.OperationalError:
        return
    pytest.fail(f"role {pg_app_params['user']}: expected a connection without TLS rejected, found it accepted")


@pytest.mark.control("PG-18", severity="medium", claims=["Z1"])
def test_tls_floor(stack, pg_admin):
    """TLS 1.2 or later only: ssl_min_protocol_version is TLSv1.2 or above, and a TLS 1.1 handshake is refused.

    Rationale: TLS 1.0 and 1.1 have known attacks and are deprecated (RFC 8996); a
    server that still speaks them hands a client that offers nothing newer, or a
    session downgraded by someone on the path, to those attacks. The setting says what
    the server means; the handshake shows what it does. The suite asks for TLS as
    libpq does (SSLRequest), then offers TLS 1.1 alone with every cipher, which libpq
    itself cannot: refused by this host's OpenSSL first, its refusal would prove nothing
    about the server. A handshake at the newest version must succeed first, so that the
    refusal is the floor's and not TLS being off.

    Fix: `ssl_min_protocol_version = 'TLSv1.2'` in postgresql.conf (the default since
    PostgreSQL 13), and no `@SECLEVEL=0` in `ssl_ciphers`.

    References: https://www.postgresql.org/docs/15/runtime-config-connection.html#GUC-SSL-MIN-PROTOCOL-VERSION;
    https://www.rfc-editor.org/rfc/rfc8996; https://www.postgresql.org/docs/15/protocol-flow.html
    """
    pg = stack.profile.postgres
    if not pg.tls:
        skip_not_applicable("postgres.tls", "the profile does not require TLS")
    floor = pg_admin.execute("SELECT current_setting('ssl_min_protocol_version')").fetchone()[0]
    port = stack.port(pg.service, pg.port)
    try:
        version = tls.negotiated(port, None, starttls="postgres")  # its certificate is made at each start, unknown here
        old_accepted = tls.accepts(port, tls.OLD, starttls="postgres")
    except (OSError, tls.TlsError) as error:
        pytest.fail(f"{pg.service} TLS on port {pg.port}: no verdict: {error}")
    problems = [f"ssl_min_protocol_version {floor or 'empty (any)'}, expected TLSv1.2 or TLSv1.3"
                ] if floor not in tls.MODERN else []
    problems += [f"negotiated {version}, expected TLS 1.2 or later"] if version not in tls.MODERN else []
    problems += [f"accepted a {tls.OLD.name} handshake"] if old_accepted else []
    assert not problems, f"{pg.service} TLS: {'; '.join(problems)}"
