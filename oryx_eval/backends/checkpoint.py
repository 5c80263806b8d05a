"""Checkpoint identity: a content hash of every file of a checkpoint directory, cached by path+size+mtime.

Two checkpoints that differ in any weight byte get different identities (sizes alone cannot tell two
seeds apart). Hashing is XXH3-128 streamed in 16 MiB blocks (several GB/s), and each file's hash is
cached in ``<cache_dir>/identity/hashes.json`` keyed by (resolved path, size, mtime_ns), so a 34B
checkpoint is read once per machine, not once per run.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import xxhash

BLOCK = 16 << 20


def file_hash(path: Path) -> str:
    """XXH3-128 hex digest of a file's bytes."""
    h = xxhash.xxh3_128()
    with path.open("rb") as f:
        while block := f.read(BLOCK):
            h.update(block)
    return h.hexdigest()


class HashCache:
    """File hashes keyed by (resolved path, size, mtime_ns) in one JSON file (written atomically)."""

    def __init__(self, cache_dir: Path | None) -> None:
        self.path = Path(cache_dir) / "identity" / "hashes.json" if cache_dir is not None else None
        self._data: dict[str, str] = {}
        if self.path is not None and self.path.exists():
            try:
                self._data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                self._data = {}  # a damaged cache is rebuilt, never trusted
        self._dirty = False

    @staticmethod
    def _key(path: Path) -> str:
        st = path.stat()
        return f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def get(self, path: Path) -> str:
        """The file's hash (from the cache when its size and mtime are unchanged)."""
        key = self._key(path)
        if key not in self._data:
            self._data[key] = file_hash(path)
            self._dirty = True
        return self._data[key]

    def save(self) -> None:
        """Persist new entries (unique temporary name + rename: concurrent ranks never collide)."""
        if self.path is None or not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".hashes.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            json.dump(self._data, f)
        os.replace(tmp, self.path)
        self._dirty = False


def checkpoint_identity(path: Path, cache_dir: Path | None = None) -> dict[str, Any]:
    """Identity of a checkpoint directory: per-file size and XXH3-128, a combined digest, model type.

    Every regular, non-hidden file at the top level is covered (config, tokenizer, generation config,
    weight shards, ``oryx_vit.pth``), so any changed byte changes ``digest``.
    """
    path = Path(path)
    cache = HashCache(cache_dir)
    files: dict[str, dict[str, Any]] = {}
    for p in sorted(path.iterdir()):
        if p.is_file() and not p.name.startswith("."):
            files[p.name] = {"size": p.stat().st_size, "xxh3_128": cache.get(p)}
    cache.save()
    combined = xxhash.xxh3_128()
    for name, f in files.items():
        combined.update(f"{name}:{f['size']}:{f['xxh3_128']};".encode())
    cfg_file = path / "config.json"
    cfg = json.loads(cfg_file.read_text()) if cfg_file.exists() else {}
    return {
        "path": str(path.resolve()),
        "digest": combined.hexdigest(),
        "files": files,
        "model_type": cfg.get("model_type"),
    }
