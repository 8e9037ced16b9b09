"""Container runtime: what the running containers do, not what their images say."""

import docker.errors
import pytest

from infra_conformance.engine import daemon
from infra_conformance.engine.container_files import read_head
from infra_conformance.engine.hostconfig import MIB, engine_true, security_options, swap_allowed
from infra_conformance.engine.userns import inside_uid
from infra_conformance.plugins.collection import skip_not_applicable

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
MAX_RESTARTS = 5


def _processes(container) -> list[dict]:
    """The container's processes as the engine sees them, with numeric UIDs (no tools in the image)."""
    top = container.top(ps_args="-o pid,uid,gid,supgid,comm")
    return [dict(zip(top["Titles"], row, strict=True)) for row in top["Processes"]]


def _configured_uid(container) -> int | str:
    """The UID a container's configuration starts it as: its ``user`` (compose's, else the image's), a name looked up
    in the image's /etc/passwd through the engine's archive API; root when neither names one."""
    user = (container.attrs["Config"].get("User") or "0").split(":")[0]
    if user.isdigit():
        return int(user)
    _, passwd = read_head(container, "/etc/passwd", 1 << 20)
    for line in passwd.decode(errors="replace").splitlines():
        name, _, uid, *_ = line.split(":") + ["", "", ""]
        if name == user and uid.isdigit():
            return int(uid)
    return f"user {user!r}, which the image's /etc/passwd does not name"


def _container_name(container, mode: str) -> str:
    """The service (else the name) of the container a ``container:<id>`` namespace mode joins."""
    try:
        return daemon.service_of(container.client.containers.get(mode.removeprefix("container:")))
    except docker.errors.NotFound:
        return mode


def _capability(name: str) -> str:
    return name.upper().removeprefix("CAP_")


@pytest.mark.control("CTR-01", severity="high", claims=["Z6", "P5"])
def test_processes_run_as_profile_user(request, stack, container, service, engine_security):
    """Every process of the service runs as the profile's non-root UID, and in no root group (GID 0, primary or
    supplementary).

    Rationale: a process running as root inside a container turns any code execution
    bug into root on a shared kernel. The image's USER field says nothing about an
    entrypoint that never drops privileges, or a compose `user:` override, so the
    running processes are read from the engine. Under the engine's user-namespace
    remapping, the engine reports host UIDs; they are translated with the container's
    own `uid_map`, read from an inspector in its namespaces. A process in the root group
    reads and writes every root-group file in the image and on its volumes.

    Fix: Run as the profile's UID and a group of its own: `user: "999:999"` in compose,
    or `USER 999:999` in the Dockerfile; no `group_add: ["0"]`.

    References: CIS Docker Benchmark v1.6.0 4.1; https://docs.docker.com/reference/compose-file/services/#user
    """
    expected = stack.profile.every_service[service].user
    groups = [(container.attrs["Config"].get("User") or "").partition(":")[2],
              *(container.attrs["HostConfig"].get("GroupAdd") or [])]
    root_group = [f"group {group} in its configuration" for group in groups if group in ("0", "root")]
    if container.status != "running":
        user = _configured_uid(container)
        assert user == expected, (f"{service} (not running: judged on its configuration): expected user {expected}, "
                                  f"found {user}")
        assert not root_group, f"{service}: expected no root group, found {root_group[0]}"
        return
    processes = _processes(container)
    assert processes, f"{service}: the engine lists no processes; is the container running?"
    uid_map = gid_map = None
    if "userns" in engine_security and container.attrs["HostConfig"].get("UsernsMode") != "host":
        inspector = request.getfixturevalue("inspectors").host(container)
        uid_map, gid_map = (inspector.file(f"/proc/1/{ids}_map").content_string for ids in ("uid", "gid"))
    wrong = [f"{p['COMMAND']} (pid {p['PID']}) as uid {inside_uid(int(p['UID']), uid_map)}"
             for p in processes if inside_uid(int(p["UID"]), uid_map) != expected]
    assert not wrong, f"{service}: expected every process as uid {expected}, found {', '.join(wrong)}"
    in_root_group = root_group + [f"{p['COMMAND']} (pid {p['PID']})" for p in processes
                     if 0 in {inside_uid(int(g), gid_map) for g in [p["GID"], *p["SUPGID"].split(",")] if g.isdigit()}]
    assert not in_root_group, (f"{service}: expected no process in the root group (GID 0), "
                               f"found {', '.join(in_root_group)}")


@pytest.mark.control("CTR-02", severity="critical", claims=["Z6", "P5"])
def test_not_privileged(container, service):
    """The container is not privileged.

    Rationale: a privileged container has every capability and every host device;
    escaping it is a matter of mounting the host's disk.

    Fix: Remove `privileged: true`; add back only the capabilities needed with
    `cap_add`.

    References: CIS Docker Benchmark v1.6.0 5.5; https://docs.docker.com/reference/compose-file/services/#privileged
    """
    assert not container.attrs["HostConfig"]["Privileged"], f"{service}: expected privileged false, found true"


@pytest.mark.control("CTR-03", severity="high", claims=["Z6", "P5"])
def test_capabilities_dropped(stack, container, service):
    """All capabilities are dropped, and only those the profile allows are added back.

    Rationale: Docker's default set still includes capabilities such as NET_RAW,
    CHOWN and SETUID that the services do not need and an attacker can use.

    Fix: Set `cap_drop: [ALL]` and list in `cap_add` only what the profile allows.

    References: CIS Docker Benchmark v1.6.0 5.4; https://docs.docker.com/reference/compose-file/services/#cap_add
    """
    host = container.attrs["HostConfig"]
    dropped = {_capability(c) for c in host.get("CapDrop") or []}
    added = {_capability(c) for c in host.get("CapAdd") or []}
    allowed = {_capability(c) for c in stack.profile.every_service[service].cap_add}
    assert "ALL" in dropped, f"{service}: expected cap_drop [ALL], found {sorted(dropped) or 'none'}"
    assert added <= allowed, (f"{service}: expected cap_add within {sorted(allowed) or 'none'}, "
                              f"found {sorted(added - allowed)} too")


@pytest.mark.control("CTR-04", severity="high", claims=["Z6", "P5"])
def test_no_new_privileges(container, service):
    """no-new-privileges is on: the last `no-new-privileges` option, which is the one the engine applies, is true.

    Rationale: without it a setuid binary inside the image can raise a process back
    to root, undoing the non-root user.

    Fix: Add `security_opt: ["no-new-privileges:true"]`.

    References: CIS Docker Benchmark v1.6.0 5.26; https://docs.docker.com/reference/compose-file/services/#security_opt
    """
    value = security_options(container.attrs["HostConfig"]).get("no-new-privileges", "")
    assert engine_true(value), (f"{service}: expected security_opt no-new-privileges:true, the last one the engine "
                                   f"reads, found {value or 'none'}")


@pytest.mark.control("CTR-05", severity="high", claims=["Z6", "P5"])
def test_read_only_root_filesystem(stack, container, service):
    """The root filesystem is read-only; only the profile's tmpfs mounts and volumes are writable, and no tmpfs
    allows exec or suid.

    Rationale: a writable image lets an intruder drop tools and persist changes to
    binaries and configuration; listing the writable paths keeps state where it is
    expected and backed up. A tmpfs mounted with `exec` is where dropped tools run.

    Fix: Set `read_only: true`; give writable paths as `tmpfs: [/tmp]` or named volumes,
    and keep Docker's tmpfs defaults (`noexec,nosuid,nodev`).

    References: CIS Docker Benchmark v1.6.0 5.13; https://docs.docker.com/reference/compose-file/services/#read_only
    """
    host = container.attrs["HostConfig"]
    assert host["ReadonlyRootfs"], f"{service}: expected read_only root filesystem, found writable"
    runnable = [f"{path} ({options})" for path, options in (host.get("Tmpfs") or {}).items()
                if {"exec", "suid"} & set(options.split(","))]
    assert not runnable, f"{service}: expected tmpfs mounts without exec and suid, found {', '.join(runnable)}"
    writable = set(host.get("Tmpfs") or {}) | {m["Destination"] for m in container.attrs["Mounts"] if m["RW"]}
    allowed = set(stack.profile.every_service[service].writable)
    assert writable <= allowed, (f"{service}: expected writable paths within {sorted(allowed) or 'none'}, "
                                 f"found {sorted(writable - allowed)} too")


@pytest.mark.control("CTR-06", severity="medium", claims=["Z7", "P6"])
def test_memory_and_cpu_limits(stack, container, service, engine_limits_swap):
    """Memory and CPU limits are set, swap adds no more than the memory limit, and the OOM killer is on.

    Rationale: on a 4 GB Pi, one runaway service without limits takes the memory or
    CPU the others need, and the kernel's OOM killer picks the victim. `memswap_limit: -1`
    lets the limited service swap without bound, onto an SD card; with `oom_kill_disable`
    a service at its limit hangs instead of restarting.

    Fix: Set `mem_limit: 256m` and `cpus: 1.0` (or `deploy.resources.limits`); leave
    `memswap_limit` unset (as much swap as memory) or lower, and `oom_kill_disable` off.

    References: CIS Docker Benchmark v1.6.0 5.11 and 5.12; https://docs.docker.com/reference/compose-file/services/#mem_limit
    """
    host = dict(container.attrs["HostConfig"])
    assert host["Memory"] > 0, f"{service}: expected a memory limit, found none"
    assert host["NanoCpus"] > 0 or host["CpuQuota"] > 0, f"{service}: expected a CPU limit, found none"
    if not engine_limits_swap:  # the kernel has no swap accounting (often on a Pi): the
        # engine sets every container's swap to -1, so the declared limit is the evidence
        host["MemorySwap"] = stack.config["services"].get(service, {}).get("memswap_limit") or 0
    swap = swap_allowed(host)
    assert swap is not None and swap <= host["Memory"], (
        f"{service}: expected at most as much swap as memory ({host['Memory'] // MIB} MiB), found "
        + ("memswap_limit -1 (unlimited)" if swap is None else f"{swap // MIB} MiB"))
    assert not host.get("OomKillDisable"), f"{service}: expected the OOM killer on, found oom_kill_disable: true"


@pytest.mark.control("CTR-07", severity="medium", claims=["Z7", "N7"])
def test_memory_limits_fit_budget(stack):
    """The memory limits of all services add up to no more than the RAM budget.

    Rationale: limits that add up to more than the device has are no limits at all:
    under load the services can together exhaust the host.

    Covers: the memory limit of every service.

    Fix: Lower the services' `mem_limit` until they add up to the profile's
    `budgets.memory_mb`.

    References: CIS Docker Benchmark v1.6.0 5.11; https://docs.docker.com/reference/compose-file/services/#mem_limit
    """
    limits = {s: stack.container(s).attrs["HostConfig"]["Memory"] / 2**20 for s in stack.profile.services}
    total, budget = sum(limits.values()), stack.profile.budgets.memory_mb
    assert total <= budget, (f"memory limits: expected a total of at most {budget:g} MiB, found {total:g} MiB ("
                             + ", ".join(f"{s} {v:g}" for s, v in limits.items()) + ")")


@pytest.mark.control("CTR-08", severity="medium", claims=["Z8", "N8", "P6", "L7"], proves="healthy start")
def test_healthcheck_defined_and_healthy(stack, container, service):
    """A healthcheck is defined and reports healthy.

    Rationale: without a healthcheck, dependants start against a service that is not
    ready and nothing notices when it stops answering. A service that this compose
    profile does not run is judged on its configuration: the healthcheck is defined.

    Fix: Add a `healthcheck:` with `test: ["CMD", ...]`, an `interval` of a few seconds
    (each check costs CPU) and `retries`, and fix what keeps it failing.

    References: CIS Docker Benchmark v1.6.0 4.6; https://docs.docker.com/reference/compose-file/services/#healthcheck
    """
    if stack.profile.every_service[service].job:
        skip_not_applicable(f"services.{service}.job", "a one-off job exits when done: it has no health to report")
    test = (container.attrs["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
    assert test[0] != "NONE", f"{service}: expected a healthcheck, found none"
    if container.status != "running":
        return  # judged on its configuration: a service of another compose profile has no health yet
    status = container.attrs["State"].get("Health", {}).get("Status")
    assert status == "healthy", f"{service}: expected healthy, found {status}"


@pytest.mark.control("CTR-09", severity="medium", claims=["Z9", "L7"])
def test_restart_policy(stack, container, service):
    """A restart policy is set, and an on-failure policy gives up after at most 5 retries.

    Rationale: after a crash or a power cut the service must come back by itself; on a
    Pi in a cupboard nobody is there to start it. A service that fails at every start
    must not restart forever and keep the host busy. A one-off job is not restarted.

    Fix: Set `restart: unless-stopped` (or `on-failure:5`).

    References: CIS Docker Benchmark v1.6.0 5.15; https://docs.docker.com/reference/compose-file/services/#restart
    """
    policy = container.attrs["HostConfig"]["RestartPolicy"]
    name, retries = policy["Name"] or "no", policy.get("MaximumRetryCount", 0)
    if stack.profile.every_service[service].job:  # done once it exits; restarted, it would run again and again
        assert name in ("no", "on-failure"), (
            f"{service} (a one-off job): expected restart no or on-failure, found {name}")
    else:
        assert name in ("always", "unless-stopped", "on-failure"), (
        f"{service}: expected restart always, unless-stopped or on-failure, found {name}")
    assert name != "on-failure" or 1 <= retries <= MAX_RESTARTS, (
        f"{service}: expected on-failure with 1 to {MAX_RESTARTS} retries, found {retries or 'no limit'}")


@pytest.mark.control("CTR-10", severity="critical", claims=["Z6", "P5"])
def test_no_docker_socket_or_host_namespaces(stack, container, service):
    """No Docker socket is mounted, no host network, PID, IPC, UTS, user or cgroup namespace is used, and no PID or
    IPC namespace is shared with another container.

    Rationale: the Docker socket is root on the host; the host's namespaces let a
    container see and signal host processes, sniff host traffic, change the host's
    name, or run as the host's root where the engine remaps users. A PID or IPC
    namespace shared with another service (`pid: service:db`) lets each read the other's
    process memory, environment and secrets, and signal its processes. The host's
    cgroup namespace shows the host's cgroup tree, the paths of every other container
    in it; on a cgroup v1 host the engine gives it to every container, so the
    compose file's `cgroup: host` is what tells a stack's choice.

    Fix: Remove the `/var/run/docker.sock` volume and `network_mode: host`, `pid: host`,
    `ipc: host`, `uts: host`, `userns_mode: host`, `cgroup: host`, and `pid:`/`ipc:` set
    to `service:...` or `container:...`.

    References: CIS Docker Benchmark v1.6.0 5.10, 5.16, 5.17, 5.21, 5.31 and 5.32; https://docs.docker.com/reference/compose-file/services/#network_mode
    """
    host = container.attrs["HostConfig"]
    found = [f"{m['Source']} mounted at {m['Destination']}" for m in container.attrs["Mounts"]
             if m["Source"] in DOCKER_SOCKETS or m["Destination"] in DOCKER_SOCKETS]
    found += [f"{kind} namespace of the host" for kind, mode in
              (("network", host["NetworkMode"]), ("PID", host["PidMode"]), ("IPC", host["IpcMode"]),
               ("UTS", host["UTSMode"]), ("user", host["UsernsMode"])) if mode == "host"]
    found += [f"{kind} namespace of {_container_name(container, mode)}" for kind, mode in
              (("PID", host["PidMode"]), ("IPC", host["IpcMode"])) if (mode or "").startswith("container:")]
    found += ["cgroup namespace of the host (cgroup: host)"] if stack.config["services"][service].get(
        "cgroup") == "host" else []
    assert not found, (f"{service}: expected no Docker socket and no namespace shared with the host or another "
                       f"container, found {', '.join(found)}")
