"""The Oryx backend: the only harness module that imports `model/` (lazily, at construction).

Compression ``auto`` is a documented length policy: images always use 1x (as the reference does); a
video uses the smallest ratio in (1, 4, 16) whose predicted visual token count fits ``auto_token_budget``
(default 16,384, which picks the reference's 4x for 64 frames of 720p and 16x for ~1,000+ frames);
16x if none fits. The ratio actually used is returned with every result.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import time
from pathlib import Path
from typing import Any, Literal

from oryx_eval.errors import BackendError
from oryx_eval.records import Generation, Latency, LoadedMedia, Request, TokenCounts
from oryx_eval.registry import BACKENDS

RATIOS = (1, 4, 16)


def checkpoint_identity(path: Path) -> dict[str, Any]:
    """Cheap, stable identity of a checkpoint dir: hashes of its small files, sizes of its big ones."""
    ident: dict[str, Any] = {"path": str(path.resolve())}
    h = hashlib.sha256()
    for name in ("config.json", "model.safetensors.index.json", "tokenizer.json", "generation_config.json"):
        f = path / name
        if f.exists():
            h.update(name.encode() + f.read_bytes())
    ident["small_files_sha256"] = h.hexdigest()[:16]
    ident["weight_bytes"] = {
        p.name: p.stat().st_size for p in sorted(path.iterdir()) if p.suffix in (".safetensors", ".pth")
    }
    cfg = json.loads((path / "config.json").read_text()) if (path / "config.json").exists() else {}
    ident["model_type"] = cfg.get("model_type")
    return ident


class OryxBackend:
    """Wraps `model.OryxModel`: media -> Oryx inputs, per-stage timings and token counts -> Generation."""

    name = "oryx"

    def __init__(
        self,
        model_path: str,
        dtype: Literal["float32", "bfloat16", "float16"] | None = None,
        device: str | None = None,
        attn_backend: Literal["sdpa", "flash", "eager"] = "sdpa",
        video_max_side: int = 480,
        video_min_side: int = 288,
        video_stride: int | None = None,
        image_max_side: int = 1536,
        image_lowres_base: int = 384,
        auto_token_budget: int = 16384,
        on_overflow: Literal["error", "truncate"] = "error",
        random_weights: bool = False,
    ) -> None:
        import torch

        import model as oryx

        path = Path(model_path)
        if not (path / "config.json").exists():
            raise BackendError(f"{path}: not an Oryx checkpoint directory (no config.json)")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
        self._torch = torch
        self._oryx = oryx
        self.model = oryx.load_oryx(
            path, dtype=getattr(torch, dtype), device=device, attn_backend=attn_backend
        )
        self.image_spec = oryx.ImageResize(highres_max=image_max_side, lowres_base=image_lowres_base)
        vkw: dict[str, Any] = {"max_side": video_max_side, "min_side": video_min_side}
        if video_stride is not None:
            vkw["stride"] = video_stride
        self.video_spec = oryx.VideoResize(**vkw)
        self.auto_token_budget = auto_token_budget
        self.on_overflow = on_overflow
        self._args = {
            "model_path": str(path), "dtype": dtype, "device": device, "attn_backend": attn_backend,
            "video_max_side": video_max_side, "video_min_side": video_min_side, "video_stride": video_stride,
            "image_max_side": image_max_side, "image_lowres_base": image_lowres_base,
            "auto_token_budget": auto_token_budget, "on_overflow": on_overflow,
        }  # fmt: skip
        self._identity = checkpoint_identity(path)
        self._random = random_weights
        self.note: str | None = None  # recorded in describe() and printed with the run's notes
        self.training: dict[str, Any] | None = None  # how a trained tiny checkpoint was built

    def describe(self) -> dict[str, Any]:
        """Arguments, checkpoint identity and whether the weights are random."""
        out = {
            "name": self.name,
            "args": self._args,
            "checkpoint": self._identity,
            "random_weights": self._random,
        }
        if self._random:
            out["note"] = (
                "random-weight tiny Oryx: a pipeline check, NOT Oryx's accuracy; its outputs are mostly "
                "unparsable (see 'unparsed'), so its accuracy sits at or below chance"
            )
        elif self.note:
            out["note"] = self.note
        if self.training is not None:
            out["training"] = self.training
        return out

    def resolve_compression(self, setting: str, media: LoadedMedia | None) -> int:
        """The ratio used for ``setting`` (1/4/16, or the ``auto`` length policy)."""
        if media is None or media.kind == "image":
            return 1
        if setting != "auto":
            return int(setting)
        t = len(media.frames)
        w, h = media.size_wh
        for r in RATIOS:
            n = self._oryx.count_visual_tokens(
                "video", (w, h), frames=t, compression=r, video_spec=self.video_spec
            )
            if n <= self.auto_token_budget:
                return r
        return RATIOS[-1]

    def _media(self, m: LoadedMedia | None) -> Any:
        if m is None:
            return None
        if m.kind == "image":
            return self._oryx.ImageMedia(image=m.image)
        return self._oryx.VideoMedia(frames=m.frames)

    def _gen_config(self, req: Request) -> Any:
        g = req.generation
        return self._oryx.GenerationConfig(
            max_new_tokens=g.max_new_tokens, temperature=g.temperature, top_k=g.top_k, top_p=g.top_p,
            seed=g.seed, on_overflow=self.on_overflow,
        )  # fmt: skip

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer requests; those sharing media and settings reuse one encoding and prefix."""
        out: list[Generation | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            key = (r.media_key or f"solo{i}", r.compression, r.generation.model_dump_json())
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            reqs = [requests[i] for i in idx]
            for i, g in zip(idx, self._generate_group(reqs), strict=True):
                out[i] = g
        return [g for g in out if g is not None]

    def _generate_group(self, reqs: list[Request]) -> list[Generation]:
        first = reqs[0]
        try:
            if len(first.media) > 1:
                raise BackendError(f"sample {first.sample_id}: Oryx takes one image or video per prompt")
            media = first.media[0] if first.media else None
            ratio = self.resolve_compression(first.compression, media)
            kw = {"compression": ratio, "gen": self._gen_config(first), "image_spec": self.image_spec,
                  "video_spec": self.video_spec}  # fmt: skip
            t0 = time.perf_counter()
            if len(reqs) > 1:
                outs = self.model.generate_shared(self._media(media), [r.prompt for r in reqs], **kw)
            else:
                outs = [self.model.generate(first.prompt, self._media(media), **kw)]
            wall = time.perf_counter() - t0
        except Exception as e:  # noqa: BLE001 - a failed generation fails its samples, not the run
            return [Generation(error=f"{type(e).__name__}: {e}", compression=first.compression) for _ in reqs]
        gens = []
        for o in outs:
            t = o.timings
            lat = Latency(preprocess=t.preprocess, vision=t.vision, compress=t.compress, prefill=t.prefill,
                          generate=t.decode)  # fmt: skip
            lat.total = lat.preprocess + lat.vision + lat.compress + lat.prefill + lat.generate
            tok = TokenCounts(visual_raw=o.tokens.visual_raw, visual=o.tokens.visual, text=o.tokens.text,
                              output=o.tokens.output)  # fmt: skip
            extra = {"warnings": list(o.warnings)} if o.warnings else {}
            gens.append(
                Generation(text=o.text, tokens=tok, latency_s=lat, compression=str(ratio), extra=extra)
            )
        if gens:
            gens[0].extra["group_wall_s"] = wall
        return gens


def _check_kwargs(kwargs: dict[str, Any]) -> None:
    params = inspect.signature(OryxBackend).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise BackendError(f"unknown Oryx backend arguments {unknown}; accepted: {sorted(params)}")


@BACKENDS.register("oryx")
def oryx_backend(model_path: str | None = None, **kwargs: Any) -> OryxBackend:
    """Oryx from a local checkpoint directory in the official layout (THUdyh/Oryx-7B, ...)."""
    if model_path is None:
        raise BackendError(
            "backend 'oryx' needs --model-path DIR (a local checkpoint in the official layout)"
        )
    _check_kwargs(kwargs)
    return OryxBackend(model_path=model_path, **kwargs)


@BACKENDS.register("oryx-tiny-trained")
def oryx_tiny_trained_backend(cache_dir: str, model_path: str | None = None, **kwargs: Any) -> OryxBackend:
    """A tiny Oryx trained on synthetic needles by `oryx-eval train-tiny --out DIR` (`--model-path DIR`).

    The video resize defaults are the ones the checkpoint was trained at (its `train_record.json`);
    explicit arguments override them.
    """
    _check_kwargs(kwargs)
    if model_path is None:
        raise BackendError(
            "backend 'oryx-tiny-trained' needs --model-path DIR (an `oryx-eval train-tiny` output)"
        )
    path = Path(model_path)
    record_file = path / "train_record.json"
    if not record_file.is_file():
        raise BackendError(
            f"oryx-tiny-trained: {record_file} not found; --model-path must be an "
            "`oryx-eval train-tiny --out` "
            "directory"
        )
    record = json.loads(record_file.read_text())
    args = {**record["backend_defaults"], **kwargs}
    b = OryxBackend(model_path=str(path), **args)
    b.name = "oryx-tiny-trained"
    b.note = record["note"]
    b.training = {"command": record["command"], "seed": record["config"]["seed"]}
    return b


def oryx_tiny_random_backend(cache_dir: str, seed: int = 0, **kwargs: Any) -> OryxBackend:
    """A seeded random-weight tiny Oryx written in the official layout and loaded by the real loader."""
    import model as oryx

    _check_kwargs(kwargs)
    path = oryx.tiny_checkpoint(Path(cache_dir) / "checkpoints", seed=seed)
    b = OryxBackend(model_path=str(path), random_weights=True, **kwargs)
    b._args["seed"] = seed
    return b


@BACKENDS.register("oryx-tiny")
def oryx_tiny_backend(cache_dir: str, seed: int = 0, **kwargs: Any) -> OryxBackend:
    """The random-weight tiny Oryx (pipeline check); the same as `oryx-tiny-random`."""
    b = oryx_tiny_random_backend(cache_dir, seed, **kwargs)
    b.name = "oryx-tiny"
    return b


@BACKENDS.register("oryx-tiny-random")
def oryx_tiny_random(cache_dir: str, seed: int = 0, **kwargs: Any) -> OryxBackend:
    """The random-weight tiny Oryx under its explicit name."""
    b = oryx_tiny_random_backend(cache_dir, seed, **kwargs)
    b.name = "oryx-tiny-random"
    return b
