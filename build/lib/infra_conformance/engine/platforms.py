"""Platforms (``linux/arm64``): the engine's own, whether a run is emulated, and which ELF files belong to one."""

from __future__ import annotations

from dataclasses import dataclass

# platform -> (uname -m, ELF e_machine, ELF class: 1 = 32-bit, 2 = 64-bit)
PLATFORMS = {
    "linux/amd64": ("x86_64", 62, 2),
    "linux/arm64": ("aarch64", 183, 2),
    "linux/arm/v7": ("armv7l", 40, 1),
    "linux/386": ("i686", 3, 1),
    "linux/riscv64": ("riscv64", 243, 2),
    "linux/ppc64le": ("ppc64le", 21, 2),
    "linux/s390x": ("s390x", 22, 2),
}
UNAME = {uname: platform for platform, (uname, *_) in PLATFORMS.items()} | {"arm64": "linux/arm64", "i386": "linux/386"}
EMULATORS = ("qemu-", "/qemu-binfmt/")  # what a binfmt_misc emulator's path holds (Debian's and tonistiigi's)


@dataclass(frozen=True)
class RunPlatform:
    """The platform a run builds and runs for, and the engine host's own."""

    platform: str
    native: str

    @property
    def emulated(self) -> bool:
        return self.platform != self.native

    @property
    def arch(self) -> str:
        """``uname -m`` inside the stack's containers, as the summary reports it."""
        return PLATFORMS[self.platform][0]


def native(engine_info: dict) -> str:
    """The engine host's platform, from ``docker info``.

    >>> native({"OSType": "linux", "Architecture": "x86_64"})
    'linux/amd64'
    """
    arch = engine_info.get("Architecture", "")
    if arch not in UNAME:
        raise ValueError(f"the engine reports an unknown architecture {arch!r}")
    return UNAME[arch]


def image_platform(attrs: dict) -> str:
    """An image's platform from its configuration (``Os``/``Architecture``/``Variant``).

    >>> image_platform({"Os": "linux", "Architecture": "arm64", "Variant": "v8"})
    'linux/arm64'
    >>> image_platform({"Os": "linux", "Architecture": "arm", "Variant": "v7"})
    'linux/arm/v7'
    """
    name = f"{attrs.get('Os', '?')}/{attrs.get('Architecture', '?')}"
    return f"{name}/{attrs['Variant']}" if attrs.get("Variant") and name == "linux/arm" else name


def elf_platform(head: bytes) -> str | None:
    """The platform an ELF file's header is for, ``unknown ELF …`` for another machine, or None when not ELF.

    >>> elf_platform(bytes.fromhex("7f454c4602010100000000000000000002003e00"))
    'linux/amd64'
    >>> elf_platform(bytes.fromhex("7f454c460201010000000000000000000200b700"))
    'linux/arm64'
    >>> elf_platform(b"#!/bin/sh\\n") is None
    True
    """
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little" if head[5] == 1 else "big")
    for platform, (_, elf_machine, elf_class) in PLATFORMS.items():
        if (machine, head[4]) == (elf_machine, elf_class):
            return platform
    return f"unknown ELF (machine {machine}, class {head[4]})"


def shebang(head: bytes) -> list[str] | None:
    """A script's interpreter line split into words, or None when ``head`` is no script.

    >>> shebang(b"#!/usr/bin/env python3\\nprint()")
    ['/usr/bin/env', 'python3']
    """
    if not head.startswith(b"#!"):
        return None
    return head[2:].split(b"\n", 1)[0].decode(errors="replace").split()


def emulated_program(exe: str, cmdline: list[str]) -> str | None:
    """For a process that a binfmt_misc emulator runs, the program it emulates; None for a native process.

    The kernel starts the emulator with the program's full path as its first argument.

    >>> emulated_program("/usr/bin/qemu-aarch64-static",
    ...                  ["/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "/usr/bin/sleep", "sleep", "9"])
    '/usr/bin/sleep'
    >>> emulated_program("/usr/bin/sleep", ["sleep", "9"]) is None
    True
    """
    if not any(mark in exe for mark in EMULATORS) or len(cmdline) < 2:
        return None
    return cmdline[1]


def proven(promised: list[str], platform: str, outcomes: list[str | None]) -> dict:
    """Which platforms this run proved: its own, when every case of the controls that prove it (``outcomes``)
    ran and passed.

    >>> proven(["linux/amd64", "linux/arm64"], "linux/arm64", ["passed"])
    {'promised': ['linux/amd64', 'linux/arm64'], 'this_run': 'linux/arm64', 'proven': ['linux/arm64'], \
'not_proven': ['linux/amd64']}
    """
    here = [platform] if outcomes and all(outcome == "passed" for outcome in outcomes) else []
    return {"promised": list(promised), "this_run": platform, "proven": here,
            "not_proven": [p for p in promised if p not in here]}


def describe(summary: dict) -> str:
    """One line for the report: which platforms this run proved and which it did not.

    >>> describe({"stack": {"emulated_arch": True, "host_arch": "x86_64"}, "platforms": {"promised": ["linux/amd64",
    ...     "linux/arm64"], "this_run": "linux/arm64", "proven": ["linux/arm64"], "not_proven": ["linux/amd64"]}})
    'linux/arm64 proven in this run (emulated on x86_64); not proven in this run: linux/amd64'
    """
    found = summary.get("platforms")
    if not found:
        return ""
    how = f" (emulated on {summary['stack']['host_arch']})" if summary["stack"].get("emulated_arch") else ""
    proof = (f"{found['this_run']} proven in this run{how}" if found["proven"]
             else f"{found['this_run']} not proven: an architecture control failed or did not run{how}")
    rest = [p for p in found["not_proven"] if p != found["this_run"]]
    return proof + (f"; not proven in this run: {', '.join(rest)}" if rest else "")
