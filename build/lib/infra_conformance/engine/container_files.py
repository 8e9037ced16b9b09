"""The first bytes of a file inside a container, read through the engine's archive API (no tools in the image)."""

from __future__ import annotations

import posixpath
import tarfile

import docker

MAX_LINKS = 16


class FileProblem(RuntimeError):
    """The file cannot be read: missing, not a regular file, or a loop of links."""


class _Stream:
    """A file-like reader over the engine's chunked tar stream, for ``tarfile`` in stream mode."""

    def __init__(self, chunks):
        self._chunks, self._buffer = iter(chunks), b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        data, self._buffer = (self._buffer, b"") if size < 0 else (self._buffer[:size], self._buffer[size:])
        return data


def read_head(container, path: str, size: int = 64) -> tuple[str, bytes]:
    """The real path of ``path`` (links followed inside the container) and its first ``size`` bytes."""
    for _ in range(MAX_LINKS):
        try:
            chunks, _stat = container.get_archive(path, chunk_size=8192)
        except docker.errors.NotFound:
            raise FileProblem(f"{path}: no such file in the container") from None
        with tarfile.open(fileobj=_Stream(chunks), mode="r|") as archive:
            member = archive.next()
            if member is None:
                raise FileProblem(f"{path}: the engine returned an empty archive")
            if member.issym():
                path = posixpath.normpath(posixpath.join(posixpath.dirname(path), member.linkname))
                continue
            if not member.isfile():
                raise FileProblem(f"{path}: not a regular file")
            return path, archive.extractfile(member).read(size)
    raise FileProblem(f"{path}: more than {MAX_LINKS} symbolic links")


def resolve_command(container, command: str) -> str:
    """Where the container finds ``command``: itself when it holds a slash, else the first hit on its PATH."""
    if "/" in command:
        return posixpath.join(container.attrs["Config"].get("WorkingDir") or "/", command)
    env = dict(item.split("=", 1) for item in container.attrs["Config"].get("Env") or [] if "=" in item)
    for folder in env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
        candidate = posixpath.join(folder or ".", command)
        try:
            read_head(container, candidate, 0)
        except FileProblem:
            continue
        return candidate
    raise FileProblem(f"{command}: not found on the container's PATH")
