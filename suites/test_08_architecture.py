"""Architecture: every image, process and entrypoint is built for the platform the run promises."""

import posixpath

import pytest

from infra_conformance.engine.container_files import FileProblem, read_head, resolve_command
from infra_conformance.engine.platforms import elf_platform, emulated_program, image_platform, shebang

# For each process outside the inspector's own mount namespace: pid, executable, its first 20 bytes, argv;
# a process that ends while it is read is left out (a healthcheck's, typically).
PROCESSES = r"""set -o pipefail; self=$(readlink /proc/self/ns/mnt)
for d in /proc/[0-9]*; do
  ns=$(readlink "$d/ns/mnt" 2>/dev/null) || continue
  [ "$ns" = "$self" ] && continue
  exe=$(readlink "$d/exe" 2>/dev/null) || continue
  head=$(od -An -tx1 -N20 "$d/exe" 2>/dev/null | tr -d ' \n') || continue
  argv=$(tr '\0' '\037' < "$d/cmdline" 2>/dev/null) && [ -n "$argv" ] || continue  # it ended meanwhile
  printf '%s\t%s\t%s\t%s\n' "${d#/proc/}" "$exe" "$head" "$argv"
done"""


def _processes(container, inspectors) -> list[dict]:
    """The executables of the container's processes, read by an inspector running as each process's user."""
    top = container.top(ps_args="-o pid,uid,gid")
    users = sorted({f"{uid}:{gid}" for _pid, uid, gid in top["Processes"]})
    found = []
    for user in users:
        lines = inspectors.host(container, user).check_output("bash -c %s", PROCESSES).splitlines()
        assert lines, f"could not read the executable of any process of user {user}"
        for line in lines:
            pid, exe, head, cmdline = line.split("\t")
            found.append({"pid": pid, "exe": exe, "head": bytes.fromhex(head), "argv": cmdline.split("\x1f")})
    return found


def _entrypoint_platforms(container) -> list[tuple[str, str | None]]:
    """The entrypoint's file and platform, then its interpreter's when it is a script (``#!/usr/bin/env x`` too)."""
    command, chain = container.attrs["Path"], []
    for _ in range(3):
        path, head = read_head(container, resolve_command(container, command))
        platform = elf_platform(head)
        chain.append((path, platform))
        interpreter = shebang(head)
        if platform or not interpreter:
            return chain
        env = posixpath.basename(interpreter[0]) == "env" and len(interpreter) > 1
        command = interpreter[1] if env else interpreter[0]
    return chain


@pytest.mark.control("ARCH-01", severity="high", claims=["N9"], proves="platform")
def test_image_is_for_the_run_platform(stack, container, service):
    """The service's image is built for the platform of this run, and the profile promises that platform.

    Rationale: an image built for another platform either fails to start on the device
    or, where an emulator is registered, runs many times slower without any error. A
    build that ignored the requested platform is caught here, before a Pi sees it.

    Fix: Build with the platform set (`platform: linux/arm64` in compose, or
    `docker buildx build --platform linux/amd64,linux/arm64`), from base images that
    exist for every platform; list each promised platform in the profile's
    `[stack] platforms`.

    References: https://docs.docker.com/build/building/multi-platform/; https://docs.docker.com/reference/compose-file/services/#platform
    """
    wanted, promised = stack.platform.platform, stack.profile.stack.platforms
    assert not promised or wanted in promised, (
        f"this run is for {wanted}, which the profile does not promise ({', '.join(promised)})")
    image = stack.client.images.get(container.attrs["Image"])
    found = image_platform(image.attrs)
    assert found == wanted, f"{service}: expected an image for {wanted}, found {found} ({image.tags or image.id[:19]})"


@pytest.mark.running
@pytest.mark.control("ARCH-02", severity="high", claims=["N9"], proves="platform")
def test_executables_are_for_the_run_platform(stack, container, service, inspectors):
    """Every process of the service, and its entrypoint, runs an executable built for the run's platform.

    Rationale: an image can be labelled arm64 and still carry an amd64 binary copied
    in from a build machine. Under emulation on a laptop it runs, and on the Pi it
    fails to start. The ELF header of each process's executable and of the
    entrypoint is read; a script's interpreter is checked in its place. Under
    emulation the kernel runs the emulator, so the program it emulates is read instead.

    Fix: Build every binary in the image for the target platform (a multi-stage build
    with `FROM --platform=$TARGETPLATFORM`, or the distribution's package), never copy
    a prebuilt binary from the build host.

    References: https://docs.docker.com/build/building/multi-platform/; https://refspecs.linuxfoundation.org/elf/gabi4+/ch4.eheader.html
    """
    wanted, wrong = stack.platform.platform, []
    for process in _processes(container, inspectors):
        program = emulated_program(process["exe"], process["argv"]) if stack.platform.emulated else None
        try:
            path, head = read_head(container, program) if program else (process["exe"], process["head"])
        except FileProblem as error:
            pytest.fail(f"{service}: could not read what process {process['pid']} runs: {error}", pytrace=False)
        found = elf_platform(head)
        if found != wanted:
            wrong.append(f"process {process['pid']} runs {path} ({found or 'not an ELF file'})")
    try:
        chain = _entrypoint_platforms(container)
    except FileProblem as error:
        pytest.fail(f"{service}: could not read the entrypoint: {error}", pytrace=False)
    path, found = chain[-1]
    if found != wanted:
        via = " via " + ", ".join(p for p, _ in chain[:-1]) if len(chain) > 1 else ""
        wrong.append(f"entrypoint {path}{via} is {found or 'neither an ELF file nor a script'}")
    assert not wrong, f"{service}: expected executables for {wanted}, found {'; '.join(wrong)}"
