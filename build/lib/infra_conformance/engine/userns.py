"""User namespaces: a UID as the engine's host reports it, translated to the UID inside the container.

Under the engine's ``userns-remap``, ``docker top`` shows host UIDs (container UID 999 is host UID 100999); the
container's ``uid_map`` (``inside outside count`` per line) says how they relate.
"""

from __future__ import annotations


def inside_uid(host_uid: int, uid_map: str | None) -> int | None:
    """The container's UID for ``host_uid``, or None when the map does not cover it; without a map, the same.

    >>> inside_uid(100999, "         0     100000      65536\\n")
    999
    >>> inside_uid(0, "0 100000 65536") is None
    True
    >>> inside_uid(999, None)
    999
    """
    if uid_map is None:
        return host_uid
    for line in uid_map.splitlines():
        if len(parts := line.split()) == 3:
            inside, outside, count = (int(part) for part in parts)
            if outside <= host_uid < outside + count:
                return inside + host_uid - outside
    return None
