"""Container runtime: what the running containers do, not what their images say."""

import docker.errors
import pytest

from infra_conformance.engine import daemon
from infra_conformance.engine.container_files import read_head
from infra_conformance.engine.hostconfig import engine_true, security_options
from infra_conformance.engine.userns import inside_uid

DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")


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
