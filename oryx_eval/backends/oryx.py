"""The Oryx backend: the only harness module that imports `model/` (lazily, at construction).

Compression ``auto`` is a documented length policy: images always use 1x (as the reference does); a
video uses the smallest ratio in (1, 4, 16) whose predicted visual token count fits ``auto_token_budget``
(default 16,384, which picks the reference's 4x for 64 frames of 720p and 16x for ~1,000+ frames);
16x if none fits. The ratio actually used is returned with every result.

Decoding values are resolved per field as task YAML / CLI > the checkpoint's generation_config.json >
default (`oryx_generation.resolve_generation`); the resolved values and their source go into `describe()`
(for a task that sets nothing) and into every Generation's ``extra``.

Failures: a request fails alone (``Generation.error``) only when its own input cannot run: a prompt longer
than the model's max_length (``overflow``), more than one media item or a bad `<image>` placeholder
(``sample``). Any other exception (a bug, a CUDA error, out of memory) propagates: it is systemic.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal

from oryx_eval.backends.args import MODEL_PATH, declare_params
from oryx_eval.backends.checkpoint import checkpoint_identity
from oryx_eval.backends.oryx_generation import RULE, resolve_generation
from oryx_eval.errors import BackendError, PrerequisiteError
from oryx_eval.records import (
    ErrorKind,
    Generation,
    GenerationSettings,
    Latency,
    LoadedMedia,
    Request,
    TokenCounts,
)
from oryx_eval.registry import BACKENDS

RATIOS = (1, 4, 16)


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
        cache_dir: str | None = None,
    ) -> None:
        import torch

        import model as oryx
        from model.attention import FlashAttentionUnavailable

        path = Path(model_path).expanduser()
        if not path.is_dir():
            raise BackendError(f"--model-path {path}: no such directory")
        if not (path / "config.json").exists():
            raise BackendError(f"--model-path {path}: not an Oryx checkpoint directory (no config.json)")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(f"--device {device}: CUDA is not available on this machine; use --device cpu")
        dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
        self._torch = torch
        self._oryx = oryx
        try:
            self.model = oryx.load_oryx(
                path, dtype=getattr(torch, dtype), device=device, attn_backend=attn_backend
            )
        except FlashAttentionUnavailable as e:
            raise PrerequisiteError(f"--attn flash: {e}") from None
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
        self._identity = checkpoint_identity(path, Path(cache_dir) if cache_dir else None)
        self._random = random_weights
        gd = self.model.generation_defaults
        self._ckpt_gen = gd.defaults() if gd is not None else None
        self._ckpt_gen_file = (gd.path, dict(gd.values)) if gd is not None else (None, None)
        self.note: str | None = None  # recorded in describe() and printed with the run's notes
        self.training: dict[str, Any] | None = None  # how a trained tiny checkpoint was built

    def describe(self) -> dict[str, Any]:
        """Arguments, checkpoint identity, decoding resolution and whether the weights are random."""
        values, sources = resolve_generation(GenerationSettings(), self._ckpt_gen)
        out = {
            "name": self.name,
            "args": self._args,
            "checkpoint": self._identity,
            "random_weights": self._random,
            "generation_config": {
                "file": self._ckpt_gen_file[0],
                "file_values": self._ckpt_gen_file[1],
                "checkpoint_defaults": self._ckpt_gen,
                "rule": RULE,
                "stop_ids": sorted(self.model.stop_ids),
                "when_unset": {k: {"value": v, "source": sources[k]} for k, v in values.items()},
            },
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

    def model_size(self, m: LoadedMedia | None, ratio: int) -> tuple[int, int] | None:
        """(width, height) the model sees: each video frame after the resize, or an image's high-res view."""
        if m is None or m.size_wh == (0, 0):
            return None
        w, h = m.size_wh
        if m.kind == "image":
            return self._oryx.image_view_sizes(w, h, self.image_spec)[1]
        return self._oryx.video_frame_size(w, h, self.video_spec, ratio)

    def _media(self, m: LoadedMedia | None) -> Any:
        if m is None:
            return None
        if m.kind == "image":
            return self._oryx.ImageMedia(image=m.image)
        return self._oryx.VideoMedia(frames=m.frames)

    def resolve_generation(self, settings: GenerationSettings) -> tuple[dict[str, Any], dict[str, str]]:
        """Decoding values used for ``settings`` and their source (explicit / checkpoint / default)."""
        return resolve_generation(settings, self._ckpt_gen)

    def _gen_config(self, settings: GenerationSettings) -> Any:
        values, sources = self.resolve_generation(settings)
        try:
            return self._oryx.GenerationConfig(**values, on_overflow=self.on_overflow)
        except ValueError as e:  # a bad task value (or checkpoint value): one line naming the field
            raise BackendError(f"generation settings {values} (sources {sources}): {e}") from None

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer requests; those sharing media and resolved settings reuse one encoding and prefix."""
        out: list[Generation | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            key = (r.media_key or f"solo{i}", r.compression, self._gen_config(r.generation))
            groups.setdefault(key, []).append(i)
        for idx in groups.values():
            reqs = [requests[i] for i in idx]
            for i, g in zip(idx, self._generate_group(reqs), strict=True):
                out[i] = g
        return [g for g in out if g is not None]

    def _failed(
        self, req: Request, kind: ErrorKind, msg: str, ratio: int | None, out: Any = None
    ) -> Generation:
        gen = Generation(error=msg, error_kind=kind, compression=str(ratio) if ratio else req.compression)
        if out is not None:
            t, k = out.timings, out.tokens
            gen.tokens = TokenCounts(visual_raw=k.visual_raw, visual=k.visual, text=k.text, output=0)
            gen.latency_s = Latency(preprocess=t.preprocess, vision=t.vision, compress=t.compress,
                                    total=t.preprocess + t.vision + t.compress)  # fmt: skip
        return gen

    def _generate_group(self, reqs: list[Request]) -> list[Generation]:
        """One media item, one resolved setting: encode once, answer every request (failing alone)."""
        res: list[Generation | None] = [None] * len(reqs)
        for i, r in enumerate(reqs):
            if len(r.media) > 1:
                msg = f"sample {r.sample_id}: Oryx takes one image or video per prompt, got {len(r.media)}"
                res[i] = self._failed(r, "sample", msg, None)
        run = [i for i, g in enumerate(res) if g is None]
        if not run:
            return [g for g in res if g is not None]
        first = reqs[run[0]]
        media = first.media[0] if first.media else None
        ratio = self.resolve_compression(first.compression, media)
        gen = self._gen_config(first.generation)
        values, sources = self.resolve_generation(first.generation)
        kw = {"compression": ratio, "gen": gen, "image_spec": self.image_spec, "video_spec": self.video_spec}
        t0 = time.perf_counter()
        # only per-prompt input errors come back as OryxOutput.error; anything raised here is systemic
        outs = self.model.generate_shared(self._media(media), [reqs[i].prompt for i in run], **kw)
        wall = time.perf_counter() - t0
        for i, o in zip(run, outs, strict=True):
            res[i] = self._to_generation(reqs[i], o, ratio, values, sources)
        ok = [g for g in res if g is not None and g.error is None]
        if ok:
            ok[0].extra["group_wall_s"] = wall
        return [g for g in res if g is not None]

    def _to_generation(
        self, req: Request, o: Any, ratio: int, values: dict[str, Any], sources: dict[str, str]
    ) -> Generation:
        if isinstance(o.error, self._oryx.SequenceTooLongError):
            e = o.error
            msg = (f"prompt longer than max_length {e.limit}: {e.total} tokens ({e.visual} visual + "
                   f"{e.text} text)")  # fmt: skip
            return self._failed(req, "overflow", msg, ratio, o)
        if o.error is not None:
            return self._failed(req, "sample", f"{type(o.error).__name__}: {o.error}", ratio, o)
        t = o.timings
        lat = Latency(preprocess=t.preprocess, vision=t.vision, compress=t.compress, prefill=t.prefill,
                      generate=t.decode)  # fmt: skip
        lat.total = lat.preprocess + lat.vision + lat.compress + lat.prefill + lat.generate
        tok = TokenCounts(visual_raw=o.tokens.visual_raw, visual=o.tokens.visual, text=o.tokens.text,
                          output=o.tokens.output)  # fmt: skip
        extra: dict[str, Any] = {"generation": dict(values), "generation_source": dict(sources)}
        size = self.model_size(req.media[0] if req.media else None, ratio)
        if size is not None:
            extra["model_size"] = list(size)
        if o.warnings:
            extra["warnings"] = list(o.warnings)
        return Generation(text=o.text, tokens=tok, latency_s=lat, compression=str(ratio), extra=extra)


@BACKENDS.register("oryx")
def oryx_backend(model_path: str | None = None, **kwargs: Any) -> OryxBackend:
    """Oryx from a local checkpoint directory in the official layout (THUdyh/Oryx-7B, ...)."""
    if model_path is None:
        raise BackendError(
            "backend 'oryx' needs --model-path DIR (a local checkpoint in the official layout)"
        )
    return OryxBackend(model_path=model_path, **kwargs)


declare_params(oryx_backend, OryxBackend, drop=("model_path", "random_weights"), lead=(MODEL_PATH,))
