"""Redis: authentication, command limits, memory policy and persistence across crashes and restarts."""

import socket
import time
import uuid

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from infra_conformance.engine.wait import wait_for
from infra_conformance.plugins.collection import skip_not_applicable

PROBE_KEY = "session:conformance-probe"  # in the app user's key namespace: only the command is judged, never the key
DANGEROUS = {"FLUSHALL": ["FLUSHALL"], "FLUSHDB": ["FLUSHDB"], "CONFIG": ["CONFIG", "GET", "maxmemory"],
             "DEBUG": ["DEBUG", "SLEEP", "0"], "KEYS": ["KEYS", "*"], "BGSAVE": ["BGSAVE"],
             "REPLICAOF": ["REPLICAOF", "NO", "ONE"], "ACL": ["ACL", "LIST"], "MODULE": ["MODULE", "LIST"],
             "MONITOR": ["MONITOR"], "SHUTDOWN": ["SHUTDOWN", "NOSAVE"], "SAVE": ["SAVE"],
             "SWAPDB": ["SWAPDB", "0", "1"], "MIGRATE": ["MIGRATE", "127.0.0.1", "1", PROBE_KEY, "0", "10"],
             "FUNCTION": ["FUNCTION", "FLUSH"], "SCRIPT": ["SCRIPT", "FLUSH"],
             "CLIENT-KILL": ["CLIENT", "KILL", "ID", "0"]}
AOF_FLUSHES = ("everysec", "always")  # appendfsync values that flush the AOF to disk themselves
MEMORY = {"maxmemory": "maxmemory_bytes", "maxmemory-policy": "maxmemory_policy"}  # Redis setting -> profile key


def _probe_key() -> str:
    """A key in the namespace the application user may write (sessions), unique to this run."""
    return f"session:conformance-{uuid.uuid4().hex}"


def _queued_reply(connection, command: list[str]) -> str:
    """Redis's raw reply to ``command`` sent inside MULTI (QUEUED, or the error); discarded, never run."""
    connection.send_command("MULTI")
    connection.read_response()
    try:
        connection.send_command(*command)
        return redis.connection.str_if_bytes(connection.read_response())
    except redis.ResponseError as error:
        return str(error)
    finally:
        connection.send_command("DISCARD")
        connection.read_response()


@pytest.mark.control("RDS-01", severity="critical", claims=["Z2", "L3"])
def test_unauthenticated_command_refused(stack):
    """A command without authentication gets NOAUTH.

    Rationale: Redis holds the login sessions; an anonymous client that can read them
    can take over any user, and one that can write them can mint sessions. The suite
    sends a bare GET on a new connection, without the handshake a client library adds.

    Fix: Disable the default user (`user default off`) and require a password for every
    ACL user.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/
    """
    rd = stack.profile.redis
    if rd is None:
        skip_not_applicable("redis", "the profile has no [redis] section")
    key = _probe_key()
    with socket.create_connection(("127.0.0.1", stack.port(rd.service, rd.port)), timeout=5) as conn:
        conn.sendall(f"*2\r\n$3\r\nGET\r\n${len(key)}\r\n{key}\r\n".encode())
        reply = conn.recv(512).decode(errors="replace").split("\r\n")[0]
    assert reply.startswith("-NOAUTH"), f"redis: expected NOAUTH for GET without a password, found the reply {reply!r}"


@pytest.mark.control("RDS-02", severity="critical", claims=["Z2", "L3"])
def test_wrong_password_rejected(stack, redis_connect):
    """A wrong password is rejected for every user Redis has: the profile's, and with the profile's admin user every
    user that `ACL USERS` lists.

    Rationale: an ACL user marked nopass, or a password check left out, accepts any
    password; the stack then looks protected and is not. A user the API never uses,
    such as one added for a dashboard, is a way in all the same.

    Covers: every user that ACL USERS lists (with the profile's admin user; else the
    profile's two users).

    Fix: Give each ACL user a strong password from a secret: `user app on >$(cat
    /run/secrets/redis_password) ...`; turn off or remove the users nothing needs.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/
    """
    rd = stack.profile.redis
    users = {user for user in (rd.user, rd.admin_user) if user}
    if rd.admin_user:
        users |= set(redis_connect(rd.admin_user, stack.secret(rd.admin_password_secret)).acl_users())
    accepted = []
    for user in sorted(users):
        try:
            redis_connect(user, f"not-the-password-{uuid.uuid4().hex}", retry=Retry(NoBackoff(), 0)).ping()
            accepted.append(user)
        except redis.AuthenticationError:
            pass
    assert not accepted, (f"redis: expected a wrong password rejected for each of {', '.join(sorted(users))}, "
                          f"found it accepted for {', '.join(accepted)}")


@pytest.mark.control("RDS-03", severity="high", claims=["N5", "Z2", "L3"])
def test_aof_enabled(stack, redis_admin):
    """AOF is on, flushed every second or at every write, and its last write succeeded.

    Rationale: snapshots alone lose every write since the last one on a crash; AOF
    with everysec loses at most a second. With `appendfsync no`, Redis leaves the
    flush to the kernel, and a power cut loses what the kernel still held: up to 30
    seconds of sessions with Linux's defaults. A failing AOF write (full disk, read-only volume) is only
    visible in INFO, and Redis then refuses writes. Each is read from the running
    server (INFO persistence, CONFIG GET as the profile's admin user), not from a
    file that a command-line option overrides.

    Fix: `appendonly yes` with `appendfsync everysec` in redis.conf, on a volume.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
    """
    if not stack.profile.redis.appendonly:
        skip_not_applicable("redis.appendonly", "the profile does not require appendonly")
    info = redis_admin.info("persistence")
    assert info["aof_enabled"] == 1, f"redis: expected aof_enabled:1, found aof_enabled:{info['aof_enabled']}"
    assert info["aof_last_write_status"] == "ok", (
        f"redis: expected aof_last_write_status:ok, found {info['aof_last_write_status']}")
    flush = redis_admin.config_get("appendfsync").get("appendfsync")
    assert flush in AOF_FLUSHES, f"redis: expected appendfsync {' or '.join(AOF_FLUSHES)}, found {flush}"


@pytest.mark.control("RDS-04", severity="medium", claims=["Z2", "L3"])
@pytest.mark.parametrize("setting", list(MEMORY))
def test_memory_setting(stack, redis_admin, setting):
    """maxmemory and maxmemory-policy are the profile's.

    Rationale: without a ceiling Redis grows until the kernel kills it, or a
    neighbour; an evicting policy silently drops sessions under memory pressure,
    logging users out at random instead of failing writes loudly.

    Fix: `maxmemory 64mb` and `maxmemory-policy noeviction` in redis.conf.

    References: https://redis.io/docs/latest/develop/reference/eviction/
    """
    expected = getattr(stack.profile.redis, MEMORY[setting])
    if expected is None:
        skip_not_applicable(f"redis.{MEMORY[setting]}", f"the profile sets no {MEMORY[setting]}")
    found = redis_admin.config_get(setting)[setting]
    assert str(found) == str(expected), f"redis: expected {setting} {expected}, found {found}"


@pytest.mark.control("RDS-05", severity="high", claims=["Z2", "P10"])
@pytest.mark.parametrize("command", list(DANGEROUS))
def test_app_user_cannot_run(stack, redis_connect, command):
    """The application user cannot run FLUSHALL, CONFIG, SHUTDOWN, SCRIPT and other administrative or dangerous
    commands.

    Rationale: the API needs sessions, not administration; with these commands a
    compromised API wipes every session, stops Redis, rewrites the configuration or
    turns Redis into a replica of an attacker's server. A list that blocks some
    commands by name leaves the others open: allow categories, and deny `@admin`,
    `@dangerous` and `@scripting` (`+@write` alone allows FUNCTION LOAD and FLUSH).
    With the profile's admin user the suite asks Redis (`ACL DRYRUN`) whether the app
    user may run the command; without one it sends the command inside MULTI and
    discards it. Neither runs it.

    Fix: Restrict the app user by category: `user app on >pw ~session:* -@all +@read
    +@write +@keyspace +@connection +@transaction -@dangerous -@scripting`.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/;
    https://redis.io/docs/latest/commands/acl-dryrun/
    """
    rd = stack.profile.redis
    if rd.admin_user:
        admin = redis_connect(rd.admin_user, stack.secret(rd.admin_password_secret))
        try:
            reply = admin.execute_command("ACL", "DRYRUN", rd.user, *DANGEROUS[command]).decode()
        except redis.ResponseError as refused:
            reply = str(refused)
        assert "permission" in reply or reply == "OK", f"redis: cannot ask about {command} with ACL DRYRUN: {reply}"
        assert reply != "OK", f"user {rd.user}: expected {command} refused, found it allowed (ACL DRYRUN)"
        return
    connection = redis_connect(rd.user, stack.secret(rd.password_secret), single_connection_client=True).connection
    reply = _queued_reply(connection, DANGEROUS[command])
    assert "inside a transaction" not in reply, f"redis: cannot ask about {command} inside MULTI: {reply}"
    assert reply != "QUEUED", f"user {rd.user}: expected {command} refused, found it accepted"


@pytest.mark.destructive
@pytest.mark.control("RDS-06", severity="high", claims=["N5", "Z2", "Z11"])
def test_write_survives_kill(stack, redis_client):
    """A key written more than a second before Redis is killed (SIGKILL) is there after the restart.

    Rationale: a power cut or the OOM killer gives Redis no chance to save. AOF with
    everysec promises at most a second of loss, but only if the file is on a volume
    that outlives the container. The suite kills the container, starts it and waits
    until it is healthy again.

    Fix: Keep `/data` on a named volume, not a tmpfs, with AOF on.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/; https://docs.docker.com/reference/compose-file/services/#volumes
    """
    rd = stack.profile.redis
    if not rd.appendonly:
        skip_not_applicable("redis.appendonly", "the profile does not require appendonly")
    key, value = _probe_key(), uuid.uuid4().hex.encode()
    redis_client.set(key, value, ex=600)
    time.sleep(1.5)
    container = stack.container(rd.service)
    container.kill(signal="SIGKILL")
    container.wait(timeout=30)
    container.start()
    stack.wait_healthy(rd.service)
    found = redis_client.get(key)
    assert found == value, f"redis: expected key {key} to survive SIGKILL and a restart, found {found!r}"


@pytest.mark.destructive
@pytest.mark.control("RDS-07", severity="high", claims=["N5", "N6"])
def test_session_survives_restart(stack, gateway_url, http):
    """A login session is still valid after Redis restarts.

    Rationale: updates and reboots restart Redis; if that logs every user out, or
    the API never reconnects, the stack fails its users on every maintenance. The
    suite restarts the container, waits until it is healthy and retries 502 and 503
    while the API reconnects, up to a deadline.

    Fix: Store sessions in a persistent Redis (AOF on a volume), and have the API retry
    after a restart.

    References: https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
    """
    api, rd = stack.profile.api, stack.profile.redis
    if rd is None:
        skip_not_applicable("redis", "the profile has no [redis] section")
    login = http.post(gateway_url + api.login_path, json={
        "tenant": api.tenant, "email": api.email, "password": stack.secret(api.password_secret)})
    assert login.status_code == 200, f"POST {api.login_path}: expected 200, found {login.status_code}"
    auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
    stack.container(rd.service).restart(timeout=10)
    stack.wait_healthy(rd.service)

    def me():
        response = http.get(gateway_url + api.me_path, headers=auth)
        if response.status_code in (502, 503):
            raise ConnectionError(f"{response.status_code} {response.text[:100]}")
        return response
    response = wait_for(me, f"GET {api.me_path}", errors=(ConnectionError,), timeout_s=30,
                        hint="read the logs of the API in the report")
    assert response.status_code == 200, (f"GET {api.me_path} after a Redis restart: expected 200 with the session, "
                                         f"found {response.status_code} {response.text[:200]}")
