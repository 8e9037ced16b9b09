#!/usr/bin/env python3
"""Turn a root filesystem tar (stdin) into a `docker load` archive (stdout) for a given platform and tag.

`docker import --platform` needs an experimental engine, so the image's configuration is
written here instead: one layer, the platform's architecture, and `CMD ["bash"]`.
Usage: rootfs-image.py linux/arm64 conformance-base/debian:bookworm-slim-arm64 < rootfs.tar | docker load
"""

import hashlib
import io
import json
import sys
import tarfile
import tempfile


def main(platform: str, tag: str) -> None:
    _os, arch, *variant = platform.split("/")
    with tempfile.TemporaryFile() as layer:
        digest = hashlib.sha256()
        while chunk := sys.stdin.buffer.read(1 << 20):
            digest.update(chunk)
            layer.write(chunk)
        diff_id = f"sha256:{digest.hexdigest()}"
        config = {"architecture": arch, "os": "linux", **({"variant": variant[0]} if variant else {}),
                  "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                             "Cmd": ["bash"]},
                  "rootfs": {"type": "layers", "diff_ids": [diff_id]},
                  "history": [{"created_by": "debootstrap --variant=minbase bookworm (scripts/ensure-base-image.sh)"}]}
        config_bytes = json.dumps(config).encode()
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        manifest = json.dumps([{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()
        size = layer.tell()
        layer.seek(0)
        with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as out:
            for name, data in ((config_name, config_bytes), ("manifest.json", manifest)):
                entry = tarfile.TarInfo(name)
                entry.size = len(data)
                out.addfile(entry, io.BytesIO(data))
            entry = tarfile.TarInfo("layer.tar")
            entry.size = size
            out.addfile(entry, layer)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(*sys.argv[1:])
