"""Decoded-frame cache: an in-memory LRU bounded by bytes plus an optional on-disk store.

Decoding dominates video-eval cost on CPU (benchmarks.md §7: "cache decoded frames per (video, sampler, N)
and decode in a worker pool ahead of the GPU"). Entries are keyed by the file's identity (absolute path +
size + mtime_ns, or a content hash) and every setting that changes the frames: frame count, sampling mode,
backend and output size. Disk entries are ``<digest>.npy`` (frames, uncompressed) + ``<digest>.json``
(indices, metadata, file size and an XXH3-128 digest of the frame bytes), each written to a temporary file
and renamed into place, the JSON last, so a reader never sees a half-written entry.

A disk hit memory-maps the ``.npy`` read-only (no copy, no allocation) and is served only after its size,
header (shape, dtype) and the XXH3-128 of every frame byte match the JSON (~10 GB/s; the hash pass also
pages the data in, so the served array costs nothing more to read); anything else is logged and decoded
again. Published files are never modified in place (replaced by rename), so a mapped entry cannot change
under a reader; do not truncate or rewrite cache files in place while a process uses them (deleting is
fine). All methods are thread-safe; concurrent loads of one key decode it once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import numpy as np
import xxhash

from oryx_eval.errors import MediaError
from oryx_eval.media.video import DecodedVideo, PathLike
from oryx_eval.records import FrameSampling

log = logging.getLogger(__name__)

Identity = Literal["stat", "content"]
CacheSource = Literal["memory", "disk", "decoded"]
_FORMAT = 2  # bump when the on-disk layout changes


@dataclass(frozen=True)
class CacheKey:
    """Everything that determines a decoded frame array."""

    file_id: str
    """``stat:<abs path>|<size>|<mtime_ns>`` or ``sha256:<hex>``."""
    num_frames: int
    mode: str
    backend: str
    size_wh: tuple[int, int] | None

    @property
    def digest(self) -> str:
        """Stable file-name-safe hash of the key."""
        blob = json.dumps({"format": _FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass
class CacheStats:
    """Counters since the cache was created."""

    memory_hits: int = 0
    disk_hits: int = 0
    misses: int = 0
    evictions: int = 0
    bad_disk_entries: int = 0


class FrameCache:
    """Thread-safe decoded-frame cache (memory LRU + optional directory)."""

    def __init__(
        self,
        max_bytes: int = 4 << 30,
        disk_dir: PathLike | None = None,
        identity: Identity = "stat",
    ) -> None:
        """Create a cache.

        Args:
            max_bytes: Memory budget for frame arrays; ``0`` disables the memory tier. An entry larger than
                the budget is never held in memory (it still goes to disk).
            disk_dir: Directory for persistent entries (created if needed); ``None`` = memory only.
            identity: ``stat`` keys files by absolute path + size + mtime_ns (cheap); ``content`` by a
                SHA-256 of the bytes (survives copies/moves; reads the whole file once per process).
        """
        if max_bytes < 0:
            raise ValueError(f"FrameCache: max_bytes must be >= 0, got {max_bytes}")
        if identity not in ("stat", "content"):
            raise ValueError(f"FrameCache: identity must be 'stat' or 'content', got {identity!r}")
        self.max_bytes = max_bytes
        self.identity: Identity = identity
        self.disk_dir = Path(disk_dir) if disk_dir is not None else None
        if self.disk_dir is not None:
            self.disk_dir.mkdir(parents=True, exist_ok=True)
        self.stats = CacheStats()
        self._mem: OrderedDict[str, DecodedVideo] = OrderedDict()
        self._mem_bytes = 0
        self._lock = threading.Lock()
        self._key_locks: dict[str, tuple[threading.Lock, int]] = {}
        self._hashes: dict[str, str] = {}  # stat identity -> content hash

    def key(
        self,
        path: PathLike,
        sampling: FrameSampling,
        num_frames: int,
        size_wh: tuple[int, int] | None = None,
    ) -> CacheKey:
        """Build the key of ``path`` decoded with these settings.

        Raises:
            MediaError: the file does not exist or cannot be read.
        """
        return CacheKey(
            file_id=self._file_id(path),
            num_frames=int(num_frames),
            mode=sampling.mode,
            backend=sampling.backend,
            size_wh=tuple(size_wh) if size_wh is not None else None,  # type: ignore[arg-type]
        )

    def get(self, key: CacheKey) -> DecodedVideo | None:
        """Return the cached entry (memory first, then disk) or ``None``; counts a hit or a miss."""
        video, _ = self._lookup(key)
        if video is None:
            with self._lock:
                self.stats.misses += 1
        return video

    def put(self, key: CacheKey, video: DecodedVideo) -> None:
        """Store an entry in memory (if it fits) and on disk (if configured); marks its frames read-only."""
        video.frames.flags.writeable = False
        self._put_memory(key.digest, video)
        if self.disk_dir is not None:
            self._write_disk(key, video)

    def get_or_load(
        self, key: CacheKey, load: Callable[[], DecodedVideo]
    ) -> tuple[DecodedVideo, CacheSource]:
        """Return the entry for ``key``, calling ``load`` (once, even across threads) on a miss.

        Returns:
            The decoded video (frames are read-only) and where it came from.
        """
        with self._key_lock(key.digest):
            video, source = self._lookup(key)
            if video is not None:
                return video, source
            with self._lock:
                self.stats.misses += 1
            video = load()
            self.put(key, video)
            return video, "decoded"

    def clear_memory(self) -> None:
        """Drop every in-memory entry (disk entries stay)."""
        with self._lock:
            self._mem.clear()
            self._mem_bytes = 0

    @property
    def memory_bytes(self) -> int:
        """Bytes of frames held in memory now."""
        with self._lock:
            return self._mem_bytes

    # --- internals -------------------------------------------------------------------------------------

    def _lookup(self, key: CacheKey) -> tuple[DecodedVideo | None, CacheSource]:
        digest = key.digest
        with self._lock:
            hit = self._mem.get(digest)
            if hit is not None:
                self._mem.move_to_end(digest)
                self.stats.memory_hits += 1
                return hit, "memory"
        if self.disk_dir is None:
            return None, "decoded"
        video = self._read_disk(key)
        if video is None:
            return None, "decoded"
        with self._lock:
            self.stats.disk_hits += 1
        self._put_memory(digest, video)
        return video, "disk"

    def _put_memory(self, digest: str, video: DecodedVideo) -> None:
        size = video.nbytes
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._mem.pop(digest, None)
            if old is not None:
                self._mem_bytes -= old.nbytes
            self._mem[digest] = video
            self._mem_bytes += size
            while self._mem_bytes > self.max_bytes:
                _, evicted = self._mem.popitem(last=False)
                self._mem_bytes -= evicted.nbytes
                self.stats.evictions += 1

    def _write_disk(self, key: CacheKey, video: DecodedVideo) -> None:
        assert self.disk_dir is not None
        digest = key.digest
        frames = np.ascontiguousarray(video.frames)  # (T, H, W, 3) uint8
        npy_bytes = 0

        def save(f: BinaryIO) -> None:
            nonlocal npy_bytes
            np.save(f, frames, allow_pickle=False)
            npy_bytes = f.tell()

        _atomic_write(self.disk_dir / f"{digest}.npy", save)
        meta = {
            "format": _FORMAT,
            "key": asdict(key),
            "indices": [int(i) for i in video.indices],
            "source_frames": int(video.source_frames),
            "fps": float(video.fps),
            "size_wh": list(video.size_wh),
            "mode": video.mode,
            "backend": video.backend,
            "shape": list(frames.shape),
            "npy_bytes": npy_bytes,
            "xxh3_128": _frames_digest(frames),
        }
        _atomic_write(self.disk_dir / f"{digest}.json", lambda f: f.write(json.dumps(meta).encode()))

    def _read_disk(self, key: CacheKey) -> DecodedVideo | None:
        assert self.disk_dir is not None
        meta_path = self.disk_dir / f"{key.digest}.json"
        npy_path = self.disk_dir / f"{key.digest}.npy"
        try:
            raw = meta_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raw, problem = None, f"{type(e).__name__}: {e}"
        frames: np.ndarray | None = None
        if raw is not None:
            try:
                meta = json.loads(raw)
                problem = _check_meta(meta, key)
                if problem is None:
                    size = npy_path.stat().st_size
                    if size != meta["npy_bytes"]:
                        problem = f"frame file is {size} bytes, {meta['npy_bytes']} recorded (truncated?)"
                if problem is None:
                    frames = np.load(npy_path, mmap_mode="r", allow_pickle=False)  # (T, H, W, 3) mapped
                    problem = _check_frames(meta, frames)
            except (OSError, ValueError, KeyError, TypeError) as e:
                problem = f"{type(e).__name__}: {e}"
        if problem is not None:
            # A bad entry is reported and re-decoded (then overwritten), never served.
            log.warning(
                "frame cache entry %s for %s is unusable (%s); decoding again",
                meta_path,
                key.file_id,
                problem,
            )
            with self._lock:
                self.stats.bad_disk_entries += 1
            return None
        assert frames is not None
        return DecodedVideo(
            frames=frames.view(np.ndarray),  # plain read-only array over the mapping
            indices=[int(i) for i in meta["indices"]],
            source_frames=int(meta["source_frames"]),
            fps=float(meta["fps"]),
            size_wh=(int(meta["size_wh"][0]), int(meta["size_wh"][1])),
            mode=str(meta["mode"]),
            backend=str(meta["backend"]),
        )

    def _file_id(self, path: PathLike) -> str:
        p = Path(path).absolute()
        try:
            st = p.stat()
        except OSError as e:
            raise MediaError(f"{path}: video file not found or unreadable ({e.strerror})") from e
        stat_id = f"stat:{p}|{st.st_size}|{st.st_mtime_ns}"
        if self.identity == "stat":
            return stat_id
        with self._lock:
            known = self._hashes.get(stat_id)
        if known is None:
            h = hashlib.sha256()
            try:
                with open(p, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
            except OSError as e:
                raise MediaError(f"{path}: cannot read file to hash it ({e.strerror})") from e
            known = f"sha256:{h.hexdigest()}"
            with self._lock:
                self._hashes[stat_id] = known
        return known

    @contextmanager
    def _key_lock(self, digest: str) -> Iterator[None]:
        with self._lock:
            lock, users = self._key_locks.get(digest, (threading.Lock(), 0))
            self._key_locks[digest] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._key_locks[digest]
                if users == 1:
                    del self._key_locks[digest]
                else:
                    self._key_locks[digest] = (lock, users - 1)


def _frames_digest(frames: np.ndarray) -> str:
    """XXH3-128 (hex) of a C-contiguous frame array's bytes, in memory order."""
    if not frames.flags.c_contiguous:
        raise ValueError("frame array is not C-contiguous")
    return xxhash.xxh3_128_hexdigest(frames.reshape(-1).view(np.uint8))


def _check_meta(meta: dict, key: CacheKey) -> str | None:
    """Why a disk entry's JSON does not belong to ``key``, or ``None``."""
    if meta.get("format") != _FORMAT:
        return f"format {meta.get('format')} != {_FORMAT}"
    if meta.get("key") != json.loads(json.dumps(asdict(key))):
        return "key mismatch (hash collision or edited file)"
    if len(meta["indices"]) != meta["shape"][0]:
        return f"{len(meta['indices'])} indices for {meta['shape'][0]} frames"
    return None


def _check_frames(meta: dict, frames: np.ndarray) -> str | None:
    """Why the mapped frames differ from what the JSON recorded (header, then every byte), or ``None``."""
    if list(frames.shape) != meta["shape"] or frames.dtype != np.uint8:
        return f"frames {frames.dtype} {list(frames.shape)} != recorded uint8 {meta['shape']}"
    digest = _frames_digest(frames)
    if digest != meta["xxh3_128"]:
        return f"frame bytes hash {digest} != recorded {meta['xxh3_128']} (corrupt data)"
    return None


def _atomic_write(dest: Path, write: Callable[[BinaryIO], object]) -> None:
    """Write via a temporary file in the same directory, then rename over ``dest``."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
