"""Whether a service's image references are pinned: a release tag or a digest, never a floating tag."""

from __future__ import annotations

import re
from pathlib import Path

FLOATING_TAGS = {"latest", "stable", "testing", "unstable", "sid", "edge", "mainline", "current", "lts"}
FROM_LINE = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", re.IGNORECASE | re.MULTILINE)
ARG_LINE = re.compile(r"^\s*ARG\s+(\w+)=(\S+)", re.IGNORECASE | re.MULTILINE)


def unpinned(reference: str) -> str | None:
    """Why ``reference`` is not pinned, or None when it is.

    >>> unpinned("debian:bookworm-slim") is None
    True
    >>> unpinned("nginx")
    'nginx has no tag, which means latest'
    """
    if "@sha256:" in reference:
        return None
    name = reference.rsplit("/", 1)[-1]
    if ":" not in name:
        return f"{reference} has no tag, which means latest"
    tag = name.rsplit(":", 1)[1]
    return f"{reference} uses the floating tag '{tag}'" if tag in FLOATING_TAGS else None


def base_images(dockerfile: str) -> list[str]:
    """The external images a Dockerfile builds FROM (not its own stages, not scratch)."""
    args = dict(ARG_LINE.findall(dockerfile))
    stages, found = set(), []
    for image, stage in FROM_LINE.findall(dockerfile):
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), image)
        if image.lower() != "scratch" and image not in stages:
            found.append(image)
        if stage:
            stages.add(stage)
    return found


def unpinned_references(service: dict) -> list[str]:
    """Reasons for every unpinned reference of one service of ``docker compose config``."""
    references = [("image", service["image"])] if service.get("image") else []
    if build := service.get("build"):
        dockerfile = Path(build["context"]) / build.get("dockerfile", "Dockerfile")
        if dockerfile.is_file():
            references += [(f"{dockerfile.name} FROM", image) for image in base_images(dockerfile.read_text())]
    return [f"{where} {reason}" for where, ref in references if (reason := unpinned(ref))]
