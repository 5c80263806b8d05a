"""`HFBackend`: the request loop shared by the transformers comparison backends (see `hf_common`)."""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from oryx_eval.backends.hf_common import (
    ATTN,
    MediaInputs,
    StageClock,
    build_generation,
    check_checkpoint,
    gen_kwargs,
    hf_identity,
    load_chat_template,
    media_of,
)
from oryx_eval.errors import BackendError
from oryx_eval.records import Generation, LoadedMedia, Request

DTYPES = ("float32", "bfloat16", "float16")


class HFBackend:
    """Base class: subclasses set the class attributes and implement the three ``_family`` hooks."""

    name = "hf"
    family = "hf"
    model_types: tuple[str, ...] = ()
    vision_methods = ("get_image_features", "get_video_features")
    stages_note = (
        "vision = the model's get_image_features/get_video_features (tower + projector + merge/pooling); "
        "prefill = the rest of the first forward; generate = the later decode steps; compress = 0"
    )

    def __init__(
        self,
        model_path: str,
        dtype: str | None,
        device: str | None,
        attn_backend: str,
        token_budget: int | None,
        args: dict[str, Any],
    ) -> None:
        import torch
        import transformers

        path = Path(model_path)
        self.config_dict = check_checkpoint(path, self.family, self.model_types)
        if attn_backend not in ATTN:
            raise BackendError(f"attn_backend {attn_backend!r}: expected one of {sorted(ATTN)}")
        if token_budget is not None and token_budget < 1:
            raise BackendError(f"token_budget must be a positive token count, got {token_budget}")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype = dtype or ("bfloat16" if device.startswith("cuda") else "float32")
        if dtype not in DTYPES:
            raise BackendError(f"dtype {dtype!r}: expected one of {list(DTYPES)}")
        self._torch = torch
        self.device = device
        self.token_budget = token_budget
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            self._load_processors(path)
            self.model = self._model_class().from_pretrained(
                path, dtype=getattr(torch, dtype), attn_implementation=ATTN[attn_backend]
            )
        except Exception as e:  # noqa: BLE001 - any load failure becomes one line naming the directory
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            raise BackendError(
                f"{path}: cannot load {self.family} checkpoint: {type(e).__name__}: {first}"
            ) from e
        self.model.to(device).eval()
        self.chat_template, self.chat_template_file = load_chat_template(path, self.tokenizer)
        self.vision_s = 0.0
        self._wrap_vision()
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos] if eos is not None else []
        self.eos = sorted(
            {*eos, *([self.tokenizer.eos_token_id] if self.tokenizer.eos_token_id is not None else [])}
        )
        self.pad = (
            self.tokenizer.pad_token_id
            if self.tokenizer.pad_token_id is not None
            else (self.eos or [None])[0]
        )
        self._args = {
            "model_path": str(path),
            "dtype": dtype,
            "device": device,
            "attn_backend": attn_backend,
            "token_budget": token_budget,
            **args,
        }
        self._identity = hf_identity(path)

    # --- family hooks -------------------------------------------------------------------------------
    def _model_class(self) -> Any:
        raise NotImplementedError

    def _load_processors(self, path: Path) -> None:
        raise NotImplementedError

    def prepare_media(self, media: LoadedMedia | None) -> MediaInputs:
        """Pixel values + metadata, the placeholder expansion and the predicted visual tokens."""
        raise NotImplementedError

    def visual_token_ids(self) -> set[int]:
        """Ids whose embeddings the model replaces by visual features."""
        raise NotImplementedError

    def extra_inputs(self, input_ids: Any, mi: MediaInputs) -> dict[str, Any]:
        """Family-specific ``generate`` inputs derived from the sequence (default: none)."""
        return {}

    def before_generate(self, mi: MediaInputs) -> None:
        """Per-request model setting for this media (default: none)."""

    # --- shared -------------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """Arguments, checkpoint identity, the chat-template file and the stage definitions."""
        return {
            "name": self.name,
            "family": self.family,
            "args": self._args,
            "checkpoint": self._identity,
            "chat_template_file": self.chat_template_file,
            "stages": self.stages_note,
            "compression": "Oryx's --compression does not apply; the resolution setting is the args "
            "(or the token_budget choice), recorded per sample as compression_used",
        }

    def _sync(self) -> None:
        if self.device.startswith("cuda"):
            self._torch.cuda.synchronize()

    def _wrap_vision(self) -> None:
        inner = self.model.model
        for name in self.vision_methods:
            fn = getattr(inner, name)

            @functools.wraps(fn)
            def timed(*a: Any, _fn: Any = fn, **kw: Any) -> Any:
                self._sync()
                t0 = time.perf_counter()
                out = _fn(*a, **kw)
                self._sync()
                self.vision_s += time.perf_counter() - t0
                return out

            setattr(inner, name, timed)

    def render(self, prompt: str, kind: str | None) -> str:
        """The checkpoint's chat template for one user turn (the visual item first, then the text)."""
        content: list[dict[str, str]] = [{"type": kind}] if kind else []
        content.append({"type": "text", "text": prompt})
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": content}],
            chat_template=self.chat_template,
            tokenize=False,
            add_generation_prompt=True,
        )

    def build_inputs(self, mi: MediaInputs, prompt: str) -> tuple[dict[str, Any], int, int]:
        """``generate`` inputs, prompt length and visual tokens counted in the real ``input_ids``."""
        text = self.render(prompt, mi.kind)
        if mi.kind is not None:
            if mi.placeholder not in text:
                raise BackendError(
                    f"chat template output has no {mi.placeholder!r} placeholder for the {mi.kind}"
                )
            text = text.replace(mi.placeholder, mi.expansion, 1)
        ids = self.tokenizer(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
        vis = self._torch.isin(ids, self._torch.tensor(sorted(self.visual_token_ids()))).sum().item()
        if vis != mi.predicted_visual:
            raise BackendError(f"{vis} visual tokens in the sequence, predictor said {mi.predicted_visual}")
        dev = self.model.device
        inputs = {"input_ids": ids.to(dev), "attention_mask": self._torch.ones_like(ids).to(dev)}
        inputs |= {k: (v.to(dev) if hasattr(v, "to") else v) for k, v in mi.tensors.items()}
        inputs |= self.extra_inputs(ids, mi)
        return inputs, ids.shape[1], int(vis)

    def _run_one(self, req: Request, mi: MediaInputs, pre_shared: float) -> Generation:
        torch = self._torch
        t0 = time.perf_counter()
        inputs, n_in, n_vis = self.build_inputs(mi, req.prompt)
        t_pre = time.perf_counter() - t0 + pre_shared
        self.before_generate(mi)
        clock = StageClock(self._sync)
        self.vision_s = 0.0
        torch.manual_seed(req.generation.seed)
        t1 = time.perf_counter()
        with torch.inference_mode():
            out = self.model.generate(**inputs, **gen_kwargs(req, self.eos, self.pad), streamer=clock)
        t_end = clock.t_end or time.perf_counter()
        new = out[0, n_in:].tolist()
        if self.eos and any(t in self.eos for t in new):  # the stop token counts, the padding after it not
            new = new[: next(i for i, t in enumerate(new) if t in self.eos) + 1]
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        first = clock.t_first or t_end
        times = {
            "preprocess": t_pre,
            "vision": self.vision_s,
            "prefill": max(0.0, first - t1 - self.vision_s),
            "decode": t_end - first,
        }
        extra = {"setting": mi.setting, "predicted_visual": mi.predicted_visual}
        if self.token_budget is not None:
            extra["token_budget"] = self.token_budget
            extra["fits_budget"] = mi.predicted_visual <= self.token_budget
        return build_generation(text, n_in, n_vis, len(new), mi, times, extra)

    def generate(self, requests: list[Request]) -> list[Generation]:
        """Answer each request; requests sharing a media item reuse its preprocessing (time split evenly)."""
        out: list[Generation] = []
        shared: dict[int, tuple[MediaInputs, float]] = {}
        uses: dict[int, int] = {}
        for r in requests:
            m = r.media[0] if len(r.media) == 1 else None
            uses[id(m)] = uses.get(id(m), 0) + 1
        for req in requests:
            try:
                media = media_of(req)
                key = id(media)
                if key not in shared:
                    t0 = time.perf_counter()
                    shared[key] = (self.prepare_media(media), time.perf_counter() - t0)
                mi, t_media = shared[key]
                out.append(self._run_one(req, mi, t_media / uses.get(key, 1)))
            except Exception as e:  # noqa: BLE001 - a failed generation fails its sample, not the run
                out.append(Generation(error=f"{type(e).__name__}: {e}", compression=None))
        return out
