"""The stack's backup commands, run in one-off containers of its backup service, their files, and the rows a dump
carries."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
import time
from dataclasses import dataclass

from infra_conformance.engine.compose import Compose
from infra_conformance.errors import printable
from infra_conformance.profile.ops import Backup

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,200}$")


def last_words(done: subprocess.CompletedProcess) -> str:
    """The last line a command printed (its error, or its answer), printable, for a message."""
    lines = (done.stderr or done.stdout).decode(errors="replace").strip().splitlines()
    return printable(lines[-1] if lines else "nothing", 200, False)


class BackupError(AssertionError):
    """A backup command failed or answered something unusable; the message says which and how."""


@dataclass(frozen=True)
class BackupTool:
    compose: Compose
    spec: Backup

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        return self.compose.one_off(self.spec.service, *args, stdin=stdin)

    def _checked(self, what: str, *args: str, stdin: bytes = b"") -> bytes:
        done = self.run(*args, stdin=stdin)
        if done.returncode:
            raise BackupError(f"`{' '.join(args[:2])}` ({what}) ended with exit {done.returncode}: {last_words(done)}")
        return done.stdout

    def backup(self) -> str:
        """Make a backup; its path, which must be a file right in ``directory``."""
        lines = self._checked("backup", *self.spec.backup).decode(errors="replace").split()
        path = lines[-1] if lines else ""
        folder, _, name = path.rpartition("/")
        if folder != self.spec.directory.rstrip("/") or not NAME.match(name):
            raise BackupError(f"backup: expected the new backup's path in {self.spec.directory} as the last line, "
                              f"found {printable(path)}")
        return path

    def verify(self, path: str) -> subprocess.CompletedProcess:
        return self.run(*self.spec.verify, path)

    def restore(self, path: str, confirmed: bool) -> subprocess.CompletedProcess:
        return self.run(*self.spec.restore, *(self.spec.confirm if confirmed else ()), path)

    def prune(self) -> bytes:
        return self._checked("prune", *self.spec.prune)

    def read(self, path: str) -> bytes:
        return self._checked("read", "cat", "--", path)

    def files(self) -> set[str]:
        """The names in ``directory``."""
        return set(self._checked("list", "ls", "-1A", "--", self.spec.directory).decode().split())

    def place(self, files: dict[str, bytes]) -> None:
        """Write files into ``directory`` (one tar stream)."""
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            for name, data in files.items():
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(data), 0o600, int(time.time())
                tar.addfile(info, io.BytesIO(data))
        self._checked("place", "tar", "-x", "-C", self.spec.directory, "-f", "-", stdin=buffer.getvalue())

    def remove(self, *paths: str) -> None:
        self._checked("remove", "rm", "-f", "--", *paths)

    def age(self, seconds: float, *paths: str) -> None:
        """Set the files' modification time ``seconds`` in the past."""
        self._checked("age", "touch", "-d", f"@{int(time.time() - seconds)}", "--", *paths)


def dumped_rows(dump: bytes, table: str) -> int:
    """The rows of ``table`` in a plain pg_dump: the lines of its ``COPY ... FROM stdin`` block; 0 without one.

    >>> dumped_rows(b"COPY public.t (a) FROM stdin;\\n1\\n2\\n\\\\.\\n", "public.t"), dumped_rows(b"", "public.t")
    (2, 0)
    """
    start = dump.find(f"COPY {table} (".encode())
    if start < 0:
        return 0
    block = dump[dump.index(b"\n", start) + 1:]
    return block[:block.find(b"\\.\n")].count(b"\n")
