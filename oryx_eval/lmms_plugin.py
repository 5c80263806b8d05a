"""lmms-eval plugin: ``lmms-eval --model oryx_eval --model_args pretrained=DIR,compression=4,frames=64``.

Registration: lmms-eval 0.7.x resolves ``--model`` only through its ``ModelRegistryV2``, which loads
manifests from the entry-point group ``lmms_eval.models`` (``lmms_eval/models/__init__.py::
_initialize_model_registry`` -> ``registry_v2.py::load_entrypoint_manifests``); ``@register_model``
alone is not read for ``--model``. Our ``pyproject.toml`` declares
``oryx_eval = "oryx_eval.lmms_plugin:manifests"`` in that group.

The model is our ``oryx`` backend (our loader, preprocessing, prefix sharing): a simple-mode lmms
(``doc_to_visual`` + ``doc_to_text``); a video path is decoded by our PyAV reader with ``frames``
frames (``sampling`` mode), a PIL image is passed as is. Requests sharing a video and generation
settings go to the backend in one call, so the video is encoded and its prefix prefilled once.
Each answer is returned as ``GenerationResult`` with token counts (lmms-eval logs them per sample),
and our per-sample record (tokens, stage latencies, frames, ratio used) is appended to
``<log_dir>/oryx_samples.jsonl`` (started afresh per invocation; pass ``log_dir`` = lmms-eval's
``--output_path`` to keep them together);
run-level means go to lmms-eval's ``throughput`` block via ``log_metrics``.
A failed sample raises by default (``on_error=raise``: lmms-eval would otherwise score an empty answer);
``on_error=empty`` answers "" and records the error in ``oryx_samples.jsonl``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from lmms_eval.api.instance import GenerationResult, Instance
from lmms_eval.api.instance import TokenCounts as LmmsTokens
from lmms_eval.api.model import lmms

from oryx_eval.errors import BackendError
from oryx_eval.media.loader import load_media
from oryx_eval.records import FrameSampling, Generation, GenerationSettings, LoadedMedia, MediaRef, Request

MODEL_ID = "oryx_eval"
SAMPLES_FILE = "oryx_samples.jsonl"


def manifests() -> list[Any]:
    """Entry-point payload for the ``lmms_eval.models`` group."""
    from lmms_eval.models.registry_v2 import ModelManifest

    return [ModelManifest(model_id=MODEL_ID, simple_class_path=f"{__name__}.OryxEvalLMM")]


def generation_settings(gen_kwargs: dict[str, Any], seed: int) -> tuple[GenerationSettings, list[str]]:
    """lmms-eval ``gen_kwargs`` as our settings plus the ``until`` stop strings."""
    kw = dict(gen_kwargs)
    until = kw.pop("until", None) or []
    until = [until] if isinstance(until, str) else list(until)
    if int(kw.get("num_beams", 1) or 1) != 1:
        raise BackendError(
            f"oryx_eval lmms model: num_beams={kw['num_beams']} is not supported (greedy/sampling)"
        )
    temp = float(kw.get("temperature", 0.0) or 0.0)
    if kw.get("do_sample") is False:
        temp = 0.0
    gen = GenerationSettings(
        max_new_tokens=int(kw.get("max_new_tokens", 128)), temperature=temp,
        top_p=kw.get("top_p"), seed=seed,
    )  # fmt: skip
    return gen, until


def cut_at_stops(text: str, until: list[str]) -> str:
    """``text`` up to the first stop string (lmms-eval's ``until`` convention)."""
    for s in until:
        if s and s in text:
            text = text.split(s, 1)[0]
    return text


class OryxEvalLMM(lmms):
    """Our ``oryx`` backend as an lmms-eval simple model."""

    is_simple = True

    def __init__(
        self, pretrained: str, compression: str | int = 4, frames: int = 64, sampling: str = "exact",
        device: str | None = None, dtype: str | None = None, attn: str = "sdpa", seed: int = 0,
        log_dir: str = "oryx_eval_lmms_logs", on_error: str = "raise", batch_size: int | str = 1,
        max_batch_size: int | str | None = None,
        **backend_args: Any,
    ) -> None:  # fmt: skip
        super().__init__()
        from oryx_eval.backends.oryx import oryx_backend

        if on_error not in ("raise", "empty"):
            raise BackendError(f"oryx_eval lmms model: on_error={on_error!r}; accepted: raise, empty")
        self.backend = oryx_backend(
            model_path=pretrained, device=device, dtype=dtype, attn_backend=attn, **backend_args
        )
        self.compression = str(compression)
        self.sampling = FrameSampling(num_frames=int(frames), mode=sampling)
        self.seed = int(seed)
        self.on_error = on_error
        self.batch_size_per_gpu = int(batch_size)
        self.log_path = Path(log_dir) / SAMPLES_FILE
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log_path.write_text("")  # one lmms-eval invocation per log (appended per sample)
        (self.log_path.parent / "oryx_backend.json").write_text(
            json.dumps({"backend": self.backend.describe(), "compression": self.compression,
                        "sampling": self.sampling.model_dump(), "seed": self.seed}, indent=2, default=str)
        )  # fmt: skip

    def _media(self, visuals: list[Any]) -> list[LoadedMedia]:
        out = []
        for v in visuals:
            if isinstance(v, str):
                out.append(load_media(MediaRef(kind="video", path=v), self.sampling))
            elif hasattr(v, "convert"):  # PIL image
                img = v.convert("RGB")
                out.append(LoadedMedia(kind="image", image=img, size_wh=img.size))
            else:
                raise BackendError(f"oryx_eval lmms model: unsupported visual {type(v).__name__}")
        return out

    def generate_until(self, requests: list[Instance]) -> list[GenerationResult]:
        """Answer every request; those sharing a visual and settings share one encoding and prefix."""
        results: list[GenerationResult | None] = [None] * len(requests)
        groups: dict[tuple, list[int]] = {}
        keys = []
        for i, inst in enumerate(requests):
            ctx, gen_kwargs, doc_to_visual, doc_id, task, split = inst.args
            visuals = doc_to_visual(self.task_dict[task][split][doc_id]) or []
            visuals = visuals if isinstance(visuals, list) else [visuals]
            vkey = tuple(v if isinstance(v, str) else f"obj{id(v)}" for v in visuals)
            key = (vkey, json.dumps(gen_kwargs, sort_keys=True, default=str))
            groups.setdefault(key, []).append(i)
            keys.append(visuals)
        t_all, gen_tokens = time.perf_counter(), 0
        sums: dict[str, float] = {}
        for idx in groups.values():
            outs = self._run_group([requests[i] for i in idx], keys[idx[0]])
            for i, (text, gen) in zip(idx, outs, strict=True):
                tok = LmmsTokens(
                    input_tokens=gen.tokens.text + gen.tokens.visual, output_tokens=gen.tokens.output
                )
                results[i] = GenerationResult(text=text, token_counts=tok)
                self.cache_hook.add_partial("generate_until", requests[i].args[:2], text)
                gen_tokens += gen.tokens.output
                for k, v in gen.latency_s.model_dump().items():
                    sums[k] = sums.get(k, 0.0) + v
        self._log_throughput(time.perf_counter() - t_all, gen_tokens, sums, len(requests))
        return [r for r in results if r is not None]

    def _run_group(self, insts: list[Instance], visuals: list[Any]) -> list[tuple[str, Generation]]:
        t0 = time.perf_counter()
        gen_set, until = generation_settings(insts[0].args[1], self.seed)
        try:
            media = self._media(visuals)
            err = None
        except Exception as e:  # noqa: BLE001 - the media failure fails these samples (on_error policy)
            media, err = [], f"{type(e).__name__}: {e}"
        decode_s = time.perf_counter() - t0
        if err is None:
            reqs = [
                Request(sample_id=f"{i.args[4]}/{i.args[3]}", prompt=i.args[0], media=media,
                        generation=gen_set, compression=self.compression,
                        media_key=media[0].key if media else None)
                for i in insts
            ]  # fmt: skip
            gens = self.backend.generate(reqs)
        else:
            gens = [Generation(error=err, error_kind="media") for _ in insts]
        out = []
        for inst, gen in zip(insts, gens, strict=True):
            gen.latency_s.decode = decode_s / len(insts)
            gen.latency_s.total += gen.latency_s.decode
            self._record(inst, gen, media)
            if gen.error is not None and self.on_error == "raise":
                raise BackendError(f"oryx_eval: {inst.args[4]} doc {inst.args[3]} failed: {gen.error}")
            out.append((cut_at_stops(gen.text, until), gen))
        return out

    def _record(self, inst: Instance, gen: Generation, media: list[LoadedMedia]) -> None:
        m = media[0] if media else None
        row = {
            "task": inst.args[4], "doc_id": inst.args[3], "split": inst.args[5], "rank": self.rank,
            "compression": self.compression, "compression_used": gen.compression,
            "tokens": gen.tokens.model_dump(), "latency_s": gen.latency_s.model_dump(),
            "frames": {"count": len(m.indices), "indices": m.indices, "size": list(m.size_wh),
                       "source_frames": m.source_frames} if m is not None and m.kind == "video" else None,
            "output": gen.text, "error": gen.error, "error_kind": gen.error_kind,
        }  # fmt: skip
        with self.log_path.open("a") as f:
            f.write(json.dumps(row, default=str) + "\n")

    def _log_throughput(self, wall: float, gen_tokens: int, sums: dict[str, float], n: int) -> None:
        from lmms_eval.models.model_utils.gen_metrics import log_metrics

        extra = {f"oryx_mean_{k}_s": v / n for k, v in sums.items()} if n else {}
        log_metrics(total_elapsed_time=wall, total_gen_tokens=gen_tokens,
                    avg_speed=gen_tokens / wall if wall > 0 else 0.0, additional_metrics=extra)  # fmt: skip

    def loglikelihood(self, requests: list[Instance]) -> list[tuple[float, bool]]:
        raise NotImplementedError(
            "oryx_eval lmms model: loglikelihood tasks are not supported (generation only)"
        )

    def generate_until_multi_round(self, requests: list[Instance]) -> list[str]:
        raise NotImplementedError("oryx_eval lmms model: multi-round generation is not supported")
