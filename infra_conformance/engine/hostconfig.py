"""What a container's engine configuration allows in effect: options as the engine reads them, log space, swap."""

import json
import re

MIB = 1024 ** 2
UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}
# The log drivers that keep a container's logs on the engine's disk, with their default max-size and max-file.
LOCAL_LOG_DEFAULTS = {"json-file": (None, 1), "local": (20 * MIB, 5)}
BLOCKING_SECCOMP_ACTIONS = {"SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD",
                            "SCMP_ACT_TRAP"}


def docker_size(text: str) -> int:
    """A size as the engine reads ``max-size`` and ``mem_limit`` (binary units, an optional ``b`` or ``ib``).

    >>> docker_size("10m"), docker_size("1GiB"), docker_size("512")
    (10485760, 1073741824, 512)
    """
    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(?:i?b)?\s*", text, re.IGNORECASE)
    if not match:
        raise ValueError(f"not a size: {text!r}")
    return int(float(match[1]) * UNITS[match[2].lower()])


def security_options(host_config: dict) -> dict[str, str]:
    """``security_opt`` as name -> value, as the engine reads it: ``a=b`` and ``a:b`` alike, and the last of
    repeated names wins (``no-new-privileges:true`` then ``no-new-privileges:false`` is false).

    >>> security_options({"SecurityOpt": ["no-new-privileges:true", "seccomp=unconfined", "no-new-privileges=false"]})
    {'no-new-privileges': 'false', 'seccomp': 'unconfined'}
    >>> security_options({"SecurityOpt": ["no-new-privileges"]})
    {'no-new-privileges': 'true'}
    """
    found = {}
    for item in host_config.get("SecurityOpt") or []:
        name, separator, value = item.replace("=", ":", 1).partition(":")
        found[name] = value if separator else "true"
    return found


def engine_true(value: str) -> bool:
    """Whether the engine reads an option's value as true (Go's ``strconv.ParseBool``).

    >>> engine_true("true"), engine_true("1"), engine_true("T"), engine_true("false"), engine_true("")
    (True, True, True, False, False)
    """
    return value.lower() in ("1", "t", "true")


def seccomp_allows_everything(value: str) -> bool:
    """Whether a ``seccomp`` option turns filtering off: ``unconfined``, or a custom profile (the engine keeps it as
    JSON) whose default lets every call through and that blocks none.

    >>> seccomp_allows_everything('{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": []}')
    True
    >>> seccomp_allows_everything('{"defaultAction": "SCMP_ACT_ERRNO"}'), seccomp_allows_everything("builtin")
    (False, False)
    """
    if value == "unconfined":
        return True
    try:
        profile = json.loads(value)
    except ValueError:
        return False  # a profile's name or path: the engine loaded it as a real filter
    if profile.get("defaultAction") in BLOCKING_SECCOMP_ACTIONS:
        return False
    return not any(rule.get("action") in BLOCKING_SECCOMP_ACTIONS for rule in profile.get("syscalls") or [])


def log_space(log_config: dict) -> int | None:
    """Bytes of a container's logs that the engine may keep on its disk: max-size times max-file. None: no bound;
    0: the driver keeps nothing on the engine's disk (``none``, or one that sends them elsewhere).

    >>> log_space({"Type": "json-file", "Config": {"max-size": "10m", "max-file": "3"}})
    31457280
    >>> log_space({"Type": "local", "Config": {}}), log_space({"Type": "json-file", "Config": {}})
    (104857600, None)
    """
    driver, options = log_config.get("Type") or "json-file", log_config.get("Config") or {}
    if driver not in LOCAL_LOG_DEFAULTS:
        return 0
    default_size, default_files = LOCAL_LOG_DEFAULTS[driver]
    size = docker_size(options["max-size"]) if options.get("max-size") else default_size
    return None if size is None else size * int(options.get("max-file") or default_files)


def swap_allowed(host_config: dict) -> int | None:
    """Bytes of swap a memory-limited container may use beyond its limit. None: unlimited (``memswap_limit: -1``);
    unset, the engine allows as much swap as memory.

    >>> swap_allowed({"Memory": 100, "MemorySwap": 0}), swap_allowed({"Memory": 100, "MemorySwap": 100})
    (100, 0)
    >>> swap_allowed({"Memory": 100, "MemorySwap": -1}) is None
    True
    """
    memory, total = host_config.get("Memory") or 0, host_config.get("MemorySwap") or 0
    if total < 0:
        return None
    return memory if total == 0 else total - memory
