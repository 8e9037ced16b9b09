"""Container isolation from the host: processes, confinement, host files and devices (CIS Docker Benchmark 5)."""

import posixpath

import pytest

from infra_conformance.engine.hostconfig import MIB, log_space, seccomp_allows_everything, security_options

SENSITIVE_HOST_DIRS = ("/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr", "/root", "/home", "/run",
                       "/var/run", "/var/lib/docker", "/var/lib/containerd")
# Below these even a read-only mount is sensitive: runtime sockets, credentials, the host's configuration and keys,
# and kernel interfaces.
READ_SENSITIVE = ("/run", "/var/run", "/proc", "/sys", "/root", "/home", "/etc", "/var/lib/docker",
                  "/var/lib/containerd")
HARMLESS_HOST_FILES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/etc/localtime",
                       "/etc/timezone")
REMOTE_SHELLS = {"sshd", "dropbear", "telnetd"}
# The kernel settings Kubernetes calls safe: namespaced, and unable to reach other containers or the host.
SAFE_SYSCTLS = ("kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ping_group_range", "net.ipv4.tcp_syncookies",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
                "net.ipv4.tcp_fin_timeout")


def _host_folder(container, mount: dict) -> str | None:
    """The host folder a mount shows: a bind's source, or the device of a ``local`` volume made with bind options
    (``driver_opts: {type: none, o: bind, device: /var/run}``), which reaches host folders as a bind does."""
    if mount["Type"] == "bind":
        return mount.get("Source")
    if mount["Type"] == "volume" and mount.get("Driver") == "local":
        options = container.client.volumes.get(mount["Name"]).attrs.get("Options") or {}
        if "bind" in (options.get("o") or "").split(","):
            return options.get("device")
    return None


def _below(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


@pytest.mark.control("CTR-13", severity="high", claims=["Z7", "P6"])
def test_pids_limit(stack, container, service):
    """The container has a PIDs limit, no higher than the profile's ceiling (`pids_max`, 1024 unless set).

    Rationale: without one, a fork bomb or a thread leak in one container exhausts the
    host's process table, and every other service, and the host's sshd, can no longer
    start a process.

    A limit of 100,000 is no limit on a Pi: the kernel's own default is 32,768 for the
    whole host.

    Fix: Set `pids_limit: 128` (or `deploy.resources.limits.pids`), above what the
    service needs at peak and within `pids_max`.

    References: CIS Docker Benchmark v1.6.0 5.29; https://docs.docker.com/reference/compose-file/services/#pids_limit
    """
    limit, ceiling = container.attrs["HostConfig"].get("PidsLimit") or 0, stack.profile.every_service[service].pids_max
    assert 0 < limit <= ceiling, (f"{service}: expected a PIDs limit of at most {ceiling}, "
                                  f"found {'none' if limit <= 0 else limit}")


@pytest.mark.control("CTR-14", severity="high", claims=["Z6", "P5"])
def test_confinement_not_disabled(container, service, engine_security):
    """seccomp, AppArmor and SELinux are not disabled, /proc and /sys stay masked, and the host's AppArmor profile is
    applied.

    Rationale: the default seccomp profile blocks about 50 system calls that escape
    exploits rely on, and AppArmor or SELinux confine what a process may touch even as
    root. `unconfined` turns that off for a whole container. Whether AppArmor or
    SELinux exists is the host's choice; where it does, each container must run
    under a profile. A custom seccomp profile that lets every call through is
    `unconfined` by another name, and `systempaths=unconfined` unmasks the kernel
    interfaces below /proc and /sys.

    Fix: Remove `seccomp:unconfined`, `apparmor:unconfined`, `label:disable` and
    `systempaths=unconfined` from `security_opt`; keep Docker's default profiles or name
    a custom one that blocks calls.

    References: CIS Docker Benchmark v1.6.0 5.2, 5.3 and 5.22; https://docs.docker.com/engine/security/seccomp/
    """
    options = security_options(container.attrs["HostConfig"])
    found = ["apparmor:unconfined"] if options.get("apparmor") == "unconfined" else []
    found += [("seccomp:unconfined" if options["seccomp"] == "unconfined" else "a seccomp profile that blocks no call")
              ] if seccomp_allows_everything(options.get("seccomp", "")) else []
    found += ["label:disable"] if options.get("label") == "disable" else []
    host = container.attrs["HostConfig"]  # systempaths=unconfined: the engine empties both lists
    found += ["/proc and /sys unmasked (systempaths=unconfined)"] if [] in (host.get("MaskedPaths"),
                                                                           host.get("ReadonlyPaths")) else []
    profile = container.attrs.get("AppArmorProfile") or ""
    if "apparmor" in engine_security and profile in ("", "unconfined"):
        found.append(f"AppArmor profile '{profile or 'none'}' on a host with AppArmor")
    assert not found, f"{service}: expected seccomp, AppArmor and SELinux confinement, found {', '.join(found)}"


@pytest.mark.control("CTR-15", severity="critical", claims=["Z6", "P5"])
def test_no_sensitive_host_directories(container, service):
    """No sensitive host directory is mounted, and no mount propagates to the host.

    Rationale: a container that can write to the host's /etc, /usr or /boot owns the
    host; one that can read them learns its users and keys. Below /run, /var/run and
    /var/lib/docker even a read-only mount hands over a runtime socket, /root or /home
    hold credentials, and /etc the host's keys and password hashes. A named volume of the
    `local` driver with bind options reaches host folders just as a bind does. A
    `shared` mount lets mounts made inside the container appear on the host.

    Fix: Mount only the data folders the service needs, from a named volume or a
    dedicated host folder; remove `bind.propagation: shared`/`rshared`. Only
    /etc/localtime and /etc/timezone may be bound from /etc, read-only.

    References: CIS Docker Benchmark v1.6.0 5.6, 5.20 and 5.32; https://docs.docker.com/engine/storage/bind-mounts/
    """
    found = []
    for mount in container.attrs["Mounts"]:
        source = posixpath.normpath(_host_folder(container, mount) or "")
        harmless = source in HARMLESS_HOST_FILES and (source.startswith("/dev/") or not mount.get("RW"))
        if source != "." and not harmless:
            exact = source in SENSITIVE_HOST_DIRS
            written = mount.get("RW") and any(_below(source, d) for d in SENSITIVE_HOST_DIRS if d != "/")
            read = any(_below(source, d) for d in READ_SENSITIVE)
            if exact or written or read:
                found.append(f"host {source} at {mount['Destination']} ({'rw' if mount.get('RW') else 'ro'})")
        if "shared" in (mount.get("Propagation") or ""):
            found.append(f"{mount['Destination']} with {mount['Propagation']} propagation")
    assert not found, (f"{service}: expected no sensitive host folder and no shared propagation, "
                       f"found {'; '.join(found)}")


@pytest.mark.control("CTR-16", severity="high", claims=["Z6", "P5"])
def test_no_host_devices_or_cgroup_parent(container, service):
    """No host device is passed in, and the container stays in the engine's cgroup tree.

    Rationale: a host device (a disk, `/dev/mem`, a GPIO chip) gives the container
    direct access to hardware below every other control. A custom `cgroup_parent`
    moves the container out of the limits the engine manages.

    Fix: Remove `devices:` and `device_cgroup_rules:` (on a Pi, give GPIO access to one
    dedicated service, never to the API); remove `cgroup_parent:`.

    References: CIS Docker Benchmark v1.6.0 5.18 and 5.25; https://docs.docker.com/reference/compose-file/services/#devices
    """
    host = container.attrs["HostConfig"]
    found = [f"device {d['PathOnHost']} at {d['PathInContainer']}" for d in host.get("Devices") or []]
    found += [f"device rule {rule}" for rule in host.get("DeviceCgroupRules") or []]
    found += [f"cgroup parent {host['CgroupParent']}"] if host.get("CgroupParent") else []
    assert not found, f"{service}: expected no host devices and the engine's cgroup tree, found {', '.join(found)}"


@pytest.mark.control("CTR-17", severity="high", claims=["Z6", "P5"])
def test_no_remote_shell_daemon(container, service):
    """No SSH (or other remote shell) daemon runs in the container.

    Rationale: an sshd inside a container is a second way in, with its own keys and
    patches to manage; `docker exec` already reaches the container for those who may.

    Fix: Remove the SSH server from the image and its start from the entrypoint; use
    `docker exec` for maintenance.

    References: CIS Docker Benchmark v1.6.0 5.7; https://docs.docker.com/reference/cli/docker/container/exec/
    """
    if container.status != "running":  # judged on its configuration: what it would start
        command = [*(container.attrs["Config"].get("Entrypoint") or []), *(container.attrs["Config"].get("Cmd") or [])]
        found = [f"{word} in its command (not running: judged on its configuration)" for word in command
                 if posixpath.basename(word) in REMOTE_SHELLS]
        assert not found, f"{service}: expected no remote shell daemon, found {', '.join(found)}"
        return
    top = container.top(ps_args="-o pid,comm,args")
    found = [f"{comm} (pid {pid})" for pid, comm, args in top["Processes"]
             if comm in REMOTE_SHELLS or posixpath.basename(args.split(" ", 1)[0].rstrip(":")) in REMOTE_SHELLS]
    assert not found, f"{service}: expected no remote shell daemon, found {', '.join(found)}"


@pytest.mark.control("CTR-19", severity="medium", claims=["Z12", "L7"])
def test_logs_kept_and_rotated(stack, container, service):
    """The container's logs are kept, and the space they may take on the engine's disk is bounded by the profile's
    ceiling (`logs_max_mb`, 100 MiB unless set).

    Rationale: with the `none` driver nothing is left to investigate an incident with.
    With Docker's default `json-file` and no `max-size`, one chatty service fills a
    Pi's SD card until every service stops; `max-size: 100g` does the same, slower.

    Fix: Set `logging: {driver: json-file, options: {max-size: "10m", max-file: "3"}}`,
    or use the `local` driver, which keeps at most 5 files of 20 MiB by default.

    References: https://docs.docker.com/engine/logging/drivers/json-file/; https://docs.docker.com/engine/logging/configure/
    """
    config = container.attrs["HostConfig"]["LogConfig"]
    driver = config.get("Type") or "json-file"
    assert driver != "none", f"{service}: expected a logging driver that keeps logs, found none"
    space, ceiling = log_space(config), stack.profile.every_service[service].logs_max_mb
    assert space is not None, f"{service}: expected {driver} logs with max-size, found no rotation"
    assert space <= ceiling * MIB, (f"{service}: expected at most {ceiling} MiB of logs (max-size times max-file), "
                                    f"found {space / MIB:.0f} MiB")


@pytest.mark.control("CTR-23", severity="medium", claims=["Z6", "P5"])
def test_only_safe_kernel_settings(stack, container, service):
    """The container sets only the kernel settings (sysctls) that Kubernetes calls safe, or ones the profile lists
    for it (`sysctls`).

    Rationale: a sysctl set for a container changes the kernel's behaviour for
    everything in its namespaces: `net.ipv4.conf.all.route_localnet` routes to
    loopback-only services from outside, `net.ipv4.ip_forward` turns the container into
    a router between networks the stack keeps apart, and the IPC settings size memory
    that the host's limits do not count.

    Fix: Remove `sysctls:` entries the service does not need; list a needed one in the
    profile's `services.<name>.sysctls`, with a comment saying why.

    References: https://kubernetes.io/docs/tasks/administer-cluster/sysctl-cluster/; https://docs.docker.com/reference/compose-file/services/#sysctls
    """
    allowed = set(SAFE_SYSCTLS) | set(stack.profile.every_service[service].sysctls)
    unsafe = sorted(f"{name}={value}" for name, value in (container.attrs["HostConfig"].get("Sysctls") or {}).items()
                    if name not in allowed)
    assert not unsafe, f"{service}: expected only safe kernel settings, found {', '.join(unsafe)}"
