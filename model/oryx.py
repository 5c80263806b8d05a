"""The Oryx MLLM (arXiv 2409.12961): vision tower -> compressor -> projector -> LLM, with generation.

Reproduces the glue of the reference `oryx/model/oryx_arch.py` (`prepare_inputs_labels_for_multimodal`):
images go through the ViT as two views (low-res ~384^2 area + native high-res), each compressed at 1x; videos
go through the ViT frame-batched, then the dynamic compressor at 1x/4x/16x; the projector lays the visual
sequence out with its learned markers; the one `<image>` placeholder (-200) of the ChatML prompt is replaced
by that sequence; position ids are 0..L-1; the spliced sequence is limited to `tokenizer_model_max_length`.
Generation is an explicit prefill + token-by-token decode loop (greedy, or temperature/top-k/top-p sampling
in transformers' order, over the tokenizer's vocabulary as the reference) so that each stage is timed and a
shared prompt prefix (system + visual tokens) can be prefilled once and reused from a copy of the KV cache for
several questions on the same media.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn
from transformers import DynamicCache

from model.attention import AttentionBackend
from model.compressor import DynamicCompressor
from model.config import OryxConfig
from model.llm import LLMAttention, build_llm
from model.preprocess import POOL_SIDE, ImageResize, VideoResize, preprocess_image, preprocess_video
from model.projector import Projector
from model.prompt import DEFAULT_SYSTEM, IM_END, IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image
from model.sampling import sampling_probs
from model.vit import OryxViT


@dataclass(frozen=True)
class GenerationConfig:
    """Decoding settings (temperature 0 = greedy)."""

    max_new_tokens: int = 16
    temperature: float = 0.0
    top_p: float | None = None  # nucleus mass kept when sampling; None = all
    # tokens kept when sampling; 50 = the transformers 4.x GenerationConfig default that the reference's
    # HF `generate` applies (its lmms-eval wrappers never set top_k); None = all
    top_k: int | None = 50
    seed: int = 0  # seeds the sampling generator (unused when greedy)
    system_prompt: str = DEFAULT_SYSTEM
    on_overflow: Literal["error", "truncate"] = "error"  # spliced sequence longer than config.max_length

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise ValueError(f"GenerationConfig.max_new_tokens must be >= 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise ValueError(f"GenerationConfig.temperature must be >= 0, got {self.temperature}")
        if self.top_p is not None and not 0 < self.top_p <= 1:
            raise ValueError(f"GenerationConfig.top_p must be in (0, 1], got {self.top_p}")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError(f"GenerationConfig.top_k must be >= 1 or None, got {self.top_k}")
        if self.on_overflow not in ("error", "truncate"):
            raise ValueError(
                f"GenerationConfig.on_overflow must be 'error' or 'truncate', got {self.on_overflow!r}"
            )


@dataclass(frozen=True)
class TokenCounts:
    """Token counts of one generation (visual/text as fed to the LLM, i.e. after any truncation)."""

    visual_raw: int  # ViT patch tokens before compression (both image views / all frames)
    visual: int  # visual embeddings in the LLM sequence (layout markers included)
    text: int  # text tokens in the LLM sequence
    output: int  # generated tokens (the stop token included when emitted)


@dataclass(frozen=True)
class StageTimings:
    """Seconds per stage (device-synchronised).

    `compress` = compressor + projector + layout; `prefill` includes copying a shared KV cache.
    """

    preprocess: float = 0.0
    vision: float = 0.0
    compress: float = 0.0
    prefill: float = 0.0
    decode: float = 0.0


@dataclass(frozen=True)
class OryxOutput:
    """One answer."""

    text: str  # decoded answer, special tokens skipped
    token_ids: list[int]  # generated ids (stop token included when emitted)
    tokens: TokenCounts
    timings: StageTimings
    warnings: list[str] = field(default_factory=list)
    compression: int = 1  # effective ratio: the video's ratio; 1 for images (always 1x) and text-only


@dataclass(frozen=True)
class ImageMedia:
    """One still image (any PIL mode; converted to RGB)."""

    image: Image.Image


@dataclass(frozen=True)
class VideoMedia:
    """Sampled video frames: uint8 `(T, H, W, 3)` or a list of same-size PIL images."""

    frames: np.ndarray | Sequence[Image.Image]


Media = ImageMedia | VideoMedia


@dataclass(frozen=True)
class VisualSequence:
    """The encoded media: what replaces the `<image>` placeholder."""

    embeds: Tensor  # (L, D) in the LLM dtype
    visual_raw: int  # ViT tokens before compression
    visual: int  # L
    timings: StageTimings  # preprocess / vision / compress filled
    compression: int  # effective ratio


def sample_next(logits: Tensor, gen: GenerationConfig, generator: torch.Generator | None) -> int:
    """Next token from `(V,)` logits: argmax when greedy, else a draw from `sampling_probs`."""
    if gen.temperature == 0:
        return int(logits.argmax())
    probs = sampling_probs(logits, gen.temperature, gen.top_k, gen.top_p)  # (V,)
    return int(torch.multinomial(probs, 1, generator=generator))


class OryxModel(nn.Module):
    """Oryx: `vision_tower` (OryxViT), `vision_resampler` (DynamicCompressor), `mm_projector`, `llm`.

    Args:
        config: model config (from config.json via `OryxConfig.from_hf_dict`).
        tokenizer: Hugging Face tokenizer (needed by `generate*`, not by `encode`).
        attn_backend: ViT attention backend.
        llm_attn: transformers attention implementation of the LLM.
        frame_chunk_size: video frames per ViT forward (memory bound; does not change results).
    """

    def __init__(
        self,
        config: OryxConfig,
        tokenizer: Any = None,
        attn_backend: AttentionBackend = "sdpa",
        llm_attn: LLMAttention = "sdpa",
        frame_chunk_size: int = 64,
    ) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.frame_chunk_size = frame_chunk_size
        self.vision_tower = OryxViT(config.vision, attn_backend)
        self.vision_resampler = DynamicCompressor(config.compressor)
        self.mm_projector = Projector(config.projector)
        self.llm = build_llm(config, llm_attn)
        self.stop_ids = self._stop_ids()
        # The reference's loader calls `resize_token_embeddings(len(tokenizer))`, which cuts the LM head to
        # the tokenizer's length (Qwen2: 152064 -> 151646 rows), so padding rows can never be generated.
        self.vocab_limit: int | None = len(tokenizer) if tokenizer is not None else None

    def _stop_ids(self) -> frozenset[int]:
        eos = self.config.llm.get("eos_token_id")
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer is not None:
            im_end = self.tokenizer.convert_tokens_to_ids(IM_END)
            if isinstance(im_end, int) and im_end != getattr(self.tokenizer, "unk_token_id", None):
                ids.add(im_end)
            if self.tokenizer.eos_token_id is not None:
                ids.add(self.tokenizer.eos_token_id)
        return frozenset(int(i) for i in ids)

    @property
    def device(self) -> torch.device:
        return self.llm.get_input_embeddings().weight.device

    def _sync(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()

    @torch.inference_mode()
    def encode(
        self,
        media: Media,
        compression: int = 4,
        image_spec: ImageResize = ImageResize(),
        video_spec: VideoResize = VideoResize(),
    ) -> VisualSequence:
        """Encode one image or video into its LLM embedding sequence.

        Args:
            media: ImageMedia or VideoMedia.
            compression: video token reduction 1, 4 or 16 (images always use 1x, as the reference).
            image_spec: image resize settings.
            video_spec: video frame resize settings.

        Returns:
            VisualSequence with `(L, D)` embeddings, counts and preprocess/vision/compress timings.
        """
        if compression not in POOL_SIDE:
            raise ValueError(f"compression must be one of {sorted(POOL_SIDE)}, got {compression}")
        t0 = self._sync()
        if isinstance(media, ImageMedia):
            views = preprocess_image(media.image, image_spec)
            t1 = self._sync()
            feats, grids = self.vision_tower.forward_packed([views.low, views.high])  # (N_low + N_high, C)
            t2 = self._sync()
            n_low = grids[0][0] * grids[0][1]
            low, _ = self.vision_resampler(feats[None, :n_low], grids[0], 1)  # (1, N_low, C) = 2x
            high, _ = self.vision_resampler(feats[None, n_low:], grids[1], 1)  # (1, N_high, C)
            proj = self.mm_projector
            embeds = proj.layout_image(proj(low[0]), grids[0], proj(high[0]), grids[1])  # (L, D)
            ratio, raw = 1, int(feats.shape[0])
        elif isinstance(media, VideoMedia):
            frames = preprocess_video(media.frames, video_spec, compression)  # (T, 3, H, W)
            t1 = self._sync()
            feats, grid = self.vision_tower.forward_frames(frames, self.frame_chunk_size)  # (T, h*w, C)
            t2 = self._sync()
            embeds = self.project_video(feats, grid, compression)  # (L, D)
            ratio, raw = compression, int(feats.shape[0] * feats.shape[1])
        else:
            raise TypeError(f"media must be ImageMedia or VideoMedia, got {type(media).__name__}")
        embeds = embeds.to(self.llm.get_input_embeddings().weight.dtype)
        t3 = self._sync()
        timings = StageTimings(preprocess=t1 - t0, vision=t2 - t1, compress=t3 - t2)
        return VisualSequence(embeds, raw, int(embeds.shape[0]), timings, ratio)

    def project_video(self, feats: Tensor, grid: tuple[int, int], compression: int) -> Tensor:
        """ViT frame features `(T, h*w, C)` -> compressed, projected, laid-out video sequence `(L, D)`.

        Differentiable (no inference mode): `encode` and the tiny model's training share this path.
        """
        comp, cgrid = self.vision_resampler(feats, grid, compression)  # (T, h'*w', C)
        return self.mm_projector.layout_video(self.mm_projector(comp), cgrid)  # (L, D)

    def _splice(
        self, ids: list[int], visual: VisualSequence | None, start: int = 0, stop: int | None = None
    ) -> Tensor:
        """Positions start..stop-1 of the input embeddings: text ids embedded, the -200 position replaced by
        the visual sequence; `(stop - start, D)`. Only the text ids inside the range are embedded."""
        n_img = ids.count(IMAGE_TOKEN_INDEX)
        if n_img != (visual is not None):
            raise ValueError(
                f"prompt has {n_img} image placeholders but {int(visual is not None)} media items"
            )
        emb = self.llm.get_input_embeddings()
        a = ids.index(IMAGE_TOKEN_INDEX) if visual is not None else len(ids)
        pieces: list[list[int] | Tensor] = [ids[:a]]
        if visual is not None:
            pieces += [visual.embeds, ids[a + 1 :]]  # (Lv, D), then the text after the placeholder
        out, offset = [], 0
        stop = sum(len(p) for p in pieces) if stop is None else stop
        for piece in pieces:
            lo, hi = max(start - offset, 0), min(stop - offset, len(piece))
            if lo < hi:
                part = piece[lo:hi]
                out.append(emb(torch.tensor(part, device=self.device)) if isinstance(part, list) else part)
            offset += len(piece)
        return torch.cat(out, dim=0)  # (stop - start, D)

    def _forward(self, embeds: Tensor, start: int, cache: DynamicCache) -> Tensor:
        """Run `(S, D)` embeddings at positions start..start+S-1 through the LLM; `(V,)` last logits."""
        pos = torch.arange(start, start + embeds.shape[0], device=self.device)[None]  # (1, S)
        out = self.llm(
            inputs_embeds=embeds[None], position_ids=pos, cache=cache, use_cache=True, logits_to_keep=1
        )
        return out.logits[0, -1, : self.vocab_limit]  # (V,), V = tokenizer length as in the reference

    def _decode(self, logits: Tensor, cache: DynamicCache, pos: int, gen: GenerationConfig) -> list[int]:
        """Token-by-token decoding from the logits after the prompt; stops at a stop id or max_new_tokens."""
        generator = None
        if gen.temperature > 0:
            generator = torch.Generator(device=logits.device).manual_seed(gen.seed)
        out: list[int] = []
        while True:
            tok = sample_next(logits, gen, generator)
            out.append(tok)
            if tok in self.stop_ids or len(out) >= gen.max_new_tokens:
                return out
            ids = torch.tensor([[tok]], device=self.device)
            step = self.llm(
                input_ids=ids,
                position_ids=torch.tensor([[pos]], device=self.device),
                cache=cache,
                use_cache=True,
            )
            logits, pos = step.logits[0, -1, : self.vocab_limit], pos + 1

    def _fit(
        self, ids: list[int], visual: VisualSequence | None, gen: GenerationConfig
    ) -> tuple[int, int, int, list[str]]:
        """Length kept after the max_length rule -> (length, visual kept, text kept, warnings)."""
        n_vis = visual.visual if visual is not None else 0
        n_text = len(ids) - ids.count(IMAGE_TOKEN_INDEX)
        total, limit = n_text + n_vis, self.config.max_length
        if total <= limit:
            return total, n_vis, n_text, []
        msg = (
            f"spliced sequence has {total} tokens ({n_vis} visual + {n_text} text) but max_length "
            f"(tokenizer_model_max_length) is {limit}"
        )
        if gen.on_overflow == "error":
            raise ValueError(msg + "; use fewer frames, more compression, or on_overflow='truncate'")
        a = ids.index(IMAGE_TOKEN_INDEX) if visual is not None else limit
        vis_kept = max(0, min(limit, a + n_vis) - a) if limit > a else 0
        warn = (
            f"{msg}: truncated to the first {limit} tokens (kept {vis_kept} visual, {limit - vis_kept} text)"
        )
        return limit, vis_kept, limit - vis_kept, [warn]

    @torch.inference_mode()
    def generate(
        self,
        prompt: str,
        media: Media | None = None,
        compression: int = 4,
        gen: GenerationConfig = GenerationConfig(),
        image_spec: ImageResize = ImageResize(),
        video_spec: VideoResize = VideoResize(),
    ) -> OryxOutput:
        """Answer one question (ChatML-wrapped) about optional media.

        Args:
            prompt: the user question; `<image>\\n` is prepended when media is given and it lacks one.
            media: ImageMedia, VideoMedia or None (text-only).
            compression: video token reduction 1, 4 or 16 (images always 1x).
            gen: decoding settings.
            image_spec: image resize settings.
            video_spec: video frame resize settings.

        Returns:
            OryxOutput with text, ids, token counts, per-stage timings and warnings.
        """
        return self.generate_shared(media, [prompt], compression, gen, image_spec, video_spec)[0]

    @torch.inference_mode()
    def generate_shared(
        self,
        media: Media | None,
        prompts: list[str],
        compression: int = 4,
        gen: GenerationConfig = GenerationConfig(),
        image_spec: ImageResize = ImageResize(),
        video_spec: VideoResize = VideoResize(),
    ) -> list[OryxOutput]:
        """Answer several questions about the same media, encoding it and prefilling the shared prefix once.

        The shared prefix is every position before the first token where the prompts differ (the system
        turn, the user-turn start and the visual tokens), capped so each prompt keeps at least one token of
        its own. It is prefilled once; each prompt continues from a deep copy of that KV cache. With a single
        prompt nothing is shared (one plain prefill). The shared stages (preprocess, vision, compress and the
        prefix prefill) are split evenly over the outputs, so their timings sum to the wall time.

        Args: as `generate`, with `prompts` a non-empty list of questions.

        Returns:
            One OryxOutput per prompt, in order; greedy outputs equal independent `generate` calls.
        """
        if not prompts:
            raise ValueError("generate_shared: prompts is empty")
        if self.tokenizer is None:
            raise ValueError("OryxModel has no tokenizer; load it with load_oryx or pass one")
        if compression not in POOL_SIDE:
            raise ValueError(f"compression must be one of {sorted(POOL_SIDE)}, got {compression}")
        visual = self.encode(media, compression, image_spec, video_spec) if media is not None else None
        has = visual is not None
        ids = [tokenize_with_image(build_prompt(p, has, gen.system_prompt), self.tokenizer) for p in prompts]
        fits = [self._fit(x, visual, gen) for x in ids]
        n = len(prompts)
        shared = 0
        if n > 1:
            k = 0
            while all(len(x) > k for x in ids) and all(x[k] == ids[0][k] for x in ids):
                k += 1
            lv = visual.visual if visual is not None else 0
            shared = k + (lv - 1 if IMAGE_TOKEN_INDEX in ids[0][:k] else 0)
            shared = max(0, min(shared, min(f[0] for f in fits) - 1))
        t0 = self._sync()
        prefix_cache = DynamicCache(config=self.llm.config)
        if shared:
            self._forward(self._splice(ids[0], visual, 0, shared), 0, prefix_cache)
        t_prefix = self._sync() - t0
        vt = visual.timings if visual is not None else StageTimings()
        outs = []
        for x, (length, n_vis, n_text, warns) in zip(ids, fits, strict=True):
            t1 = self._sync()
            cache = copy.deepcopy(prefix_cache) if shared else DynamicCache(config=self.llm.config)
            logits = self._forward(self._splice(x, visual, shared, length), shared, cache)
            t2 = self._sync()
            toks = self._decode(logits, cache, length, gen)
            t3 = self._sync()
            timings = StageTimings(
                vt.preprocess / n, vt.vision / n, vt.compress / n, t_prefix / n + t2 - t1, t3 - t2
            )
            counts = TokenCounts(visual.visual_raw if visual else 0, n_vis, n_text, len(toks))
            text = self.tokenizer.decode(toks, skip_special_tokens=True)
            ratio = visual.compression if visual is not None else 1
            outs.append(OryxOutput(text, toks, counts, timings, list(warns), ratio))
        return outs
