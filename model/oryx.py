"""The Oryx MLLM (arXiv 2409.12961): vision tower -> compressor -> projector -> LLM, with generation.

Reproduces the glue of the reference `oryx/model/oryx_arch.py` (`prepare_inputs_labels_for_multimodal`):
images go through the ViT as two views (low-res ~384^2 area + native high-res), each compressed at 1x; videos
go through the ViT frame-batched, then the dynamic compressor at 1x/4x/16x; the projector lays the visual
sequence out with its learned markers; the one `<image>` placeholder (-200) of the ChatML prompt is replaced
by that sequence; position ids are 0..L-1; the spliced sequence is limited to `tokenizer_model_max_length`.
Generation is an explicit prefill + token-by-token decode loop (repetition penalty on the generated ids, then
greedy or temperature/top-k/top-p sampling, in transformers' order, over the tokenizer's vocabulary as the
reference; `model/generation.py`) so that each stage is timed and a
shared prompt prefix (system + visual tokens) can be prefilled once and reused from a copy of the KV cache for
several questions on the same media.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import torch
from torch import Tensor, nn
from transformers import DynamicCache

from model.attention import AttentionBackend
from model.compressor import DynamicCompressor
from model.config import OryxConfig
from model.errors import InputError, SequenceTooLongError
from model.generation import CheckpointGenerationConfig, GenerationConfig, sample_next
from model.llm import LLMAttention, build_llm, cache_kwarg
from model.preprocess import POOL_SIDE, ImageResize, VideoResize, preprocess_image, preprocess_video
from model.projector import Projector
from model.prompt import IM_END, IMAGE_TOKEN_INDEX, build_prompt, tokenize_with_image
from model.records import ImageMedia, Media, OryxOutput, StageTimings, TokenCounts, VideoMedia, VisualSequence
from model.vit import OryxViT


class OryxModel(nn.Module):
    """Oryx: `vision_tower` (OryxViT), `vision_resampler` (DynamicCompressor), `mm_projector`, `llm`.

    Args:
        config: model config (from config.json via `OryxConfig.from_hf_dict`).
        tokenizer: Hugging Face tokenizer (needed by `generate*`, not by `encode`).
        attn_backend: ViT attention backend.
        llm_attn: transformers attention implementation of the LLM.
        frame_chunk_size: video frames per ViT forward (memory bound; does not change results).
        generation_defaults: the checkpoint's generation_config.json (its eos ids always stop generation,
            as in the reference's transformers `generate`); its other values are exposed, never applied
            implicitly: pass them in `GenerationConfig`.
    """

    def __init__(
        self,
        config: OryxConfig,
        tokenizer: Any = None,
        attn_backend: AttentionBackend = "sdpa",
        llm_attn: LLMAttention = "sdpa",
        frame_chunk_size: int = 64,
        generation_defaults: CheckpointGenerationConfig | None = None,
    ) -> None:
        super().__init__()
        self.config = config
        self.tokenizer = tokenizer
        self.generation_defaults = generation_defaults
        self.frame_chunk_size = frame_chunk_size
        self.vision_tower = OryxViT(config.vision, attn_backend)
        self.vision_resampler = DynamicCompressor(config.compressor)
        self.mm_projector = Projector(config.projector)
        self.llm = build_llm(config, llm_attn)
        self._cache_kw = cache_kwarg(self.llm)  # `cache` or `past_key_values`, by transformers version
        self.stop_ids = self._stop_ids()
        # The reference's loader calls `resize_token_embeddings(len(tokenizer))`, which cuts the LM head to
        # the tokenizer's length (Qwen2: 152064 -> 151646 rows), so padding rows can never be generated.
        self.vocab_limit: int | None = len(tokenizer) if tokenizer is not None else None

    def _stop_ids(self) -> frozenset[int]:
        eos = self.config.llm.get("eos_token_id")
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.generation_defaults is not None:
            ids.update(self.generation_defaults.eos_token_ids)
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
        kw = {self._cache_kw: cache}
        out = self.llm(inputs_embeds=embeds[None], position_ids=pos, use_cache=True, logits_to_keep=1, **kw)
        return out.logits[0, -1, : self.vocab_limit]  # (V,), V = tokenizer length as in the reference

    def _decode(self, logits: Tensor, cache: DynamicCache, pos: int, gen: GenerationConfig) -> list[int]:
        """Token-by-token decoding from the logits after the prompt; stops at a stop id or max_new_tokens."""
        generator = None
        if gen.temperature > 0:
            generator = torch.Generator(device=logits.device).manual_seed(gen.seed)
        out: list[int] = []
        stop = self.stop_ids | set(gen.stop_ids)
        while True:
            tok = sample_next(logits, gen, generator, out)  # penalty over the generated ids only
            out.append(tok)
            if tok in stop or len(out) >= gen.max_new_tokens:
                return out
            ids = torch.tensor([[tok]], device=self.device)
            step = self.llm(
                input_ids=ids,
                position_ids=torch.tensor([[pos]], device=self.device),
                use_cache=True,
                **{self._cache_kw: cache},
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
        if gen.on_overflow == "error":
            raise SequenceTooLongError(total, n_vis, n_text, limit)
        msg = (
            f"spliced sequence has {total} tokens ({n_vis} visual + {n_text} text) but max_length "
            f"(tokenizer_model_max_length) is {limit}"
        )
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

        Raises:
            SequenceTooLongError: the spliced sequence exceeds max_length (with on_overflow="error").
            PromptError: the question holds `<image>` placeholders that do not fit the media.
        """
        out = self.generate_shared(media, [prompt], compression, gen, image_spec, video_spec)[0]
        if out.error is not None:
            raise out.error
        return out

    def _prepare(
        self, prompts: list[str], visual: VisualSequence | None, gen: GenerationConfig
    ) -> list[tuple[list[int], tuple[int, int, int, list[str]]] | InputError]:
        """Per prompt: (ids, `_fit` result), or the InputError of a prompt that cannot run."""
        out: list[tuple[list[int], tuple[int, int, int, list[str]]] | InputError] = []
        for p in prompts:
            try:
                ids = tokenize_with_image(
                    build_prompt(p, visual is not None, gen.system_prompt), self.tokenizer
                )
                out.append((ids, self._fit(ids, visual, gen)))
            except InputError as e:
                out.append(e)
        return out

    @staticmethod
    def _shared_length(
        runs: list[tuple[list[int], tuple[int, int, int, list[str]]]], visual: VisualSequence | None
    ) -> int:
        """Positions shared by every prompt of `runs` (before their first differing token), capped so each
        keeps at least one position of its own; 0 for fewer than two prompts."""
        if len(runs) < 2:
            return 0
        ids = [x for x, _ in runs]
        k = 0
        while all(len(x) > k for x in ids) and all(x[k] == ids[0][k] for x in ids):
            k += 1
        lv = visual.visual if visual is not None else 0
        shared = k + (lv - 1 if IMAGE_TOKEN_INDEX in ids[0][:k] else 0)
        return max(0, min(shared, min(f[0] for _, f in runs) - 1))

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
        prompt nothing is shared (one plain prefill). A prompt that cannot run because of its own input
        (too long for max_length with on_overflow="error", or a bad `<image>` placeholder) gets an output
        with `error` set and takes no part in the prefix; the others run as if it were absent. The encoding
        stages (preprocess, vision, compress) are split evenly over all outputs and the prefix prefill over
        the outputs that ran, so the timings sum to the wall time.

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
        prepared = self._prepare(prompts, visual, gen)
        runs = [r for r in prepared if not isinstance(r, InputError)]
        n, n_run = len(prompts), max(len(runs), 1)
        shared = self._shared_length(runs, visual)
        t0 = self._sync()
        prefix_cache = DynamicCache(config=self.llm.config)
        if shared:
            self._forward(self._splice(runs[0][0], visual, 0, shared), 0, prefix_cache)
        t_prefix = self._sync() - t0
        vt = visual.timings if visual is not None else StageTimings()
        raw = visual.visual_raw if visual is not None else 0
        ratio = visual.compression if visual is not None else 1
        outs = []
        for r in prepared:
            if isinstance(r, InputError):
                n_vis = r.visual if isinstance(r, SequenceTooLongError) else (visual.visual if visual else 0)
                n_text = r.text if isinstance(r, SequenceTooLongError) else 0
                timings = StageTimings(vt.preprocess / n, vt.vision / n, vt.compress / n)
                outs.append(OryxOutput("", [], TokenCounts(raw, n_vis, n_text, 0), timings, [], ratio, r))
                continue
            x, (length, n_vis, n_text, warns) = r
            t1 = self._sync()
            cache = copy.deepcopy(prefix_cache) if shared else DynamicCache(config=self.llm.config)
            logits = self._forward(self._splice(x, visual, shared, length), shared, cache)
            t2 = self._sync()
            toks = self._decode(logits, cache, length, gen)
            t3 = self._sync()
            timings = StageTimings(
                vt.preprocess / n, vt.vision / n, vt.compress / n, t_prefix / n_run + t2 - t1, t3 - t2
            )
            counts = TokenCounts(raw, n_vis, n_text, len(toks))
            text = self.tokenizer.decode(toks, skip_special_tokens=True)
            outs.append(OryxOutput(text, toks, counts, timings, list(warns), ratio))
        return outs
