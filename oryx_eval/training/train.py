"""`train_tiny`: the whole recipe (data, model, steps, validation, checkpoint) behind `oryx-eval train-tiny`.

The checkpoint is written through `model.writer.save_oryx` (official layout) with a `train_record.json`
holding the recipe, the command that rebuilds it, the loss curve and the held-out accuracies.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from model import OryxModel, load_oryx
from model.writer import save_oryx
from oryx_eval.backends.checkpoint import checkpoint_identity
from oryx_eval.benchmarks.niah.needles import NEEDLE_KINDS
from oryx_eval.errors import OryxEvalError
from oryx_eval.schema import TASKS_DIR, load_task
from oryx_eval.training.data import (
    DrawSpec,
    NiahSource,
    check_disjoint,
    check_ratios,
    draw_batch,
    validation_set,
)
from oryx_eval.training.glyphs import GlyphData, GlyphTrainer, glyph_validation
from oryx_eval.training.loop import LossWeights, OptimConfig, StepCallback, StepLog, Trainer, accuracy
from oryx_eval.training.model_setup import (
    TINY_VIDEO,
    TinyDims,
    config_dict,
    initial_model,
    tokenizer,
    video_spec,
)
from oryx_eval.training.ocr import OcrData, OcrTrainer, ocr_validation

RECORD = "train_record.json"
STAGES = ("qa", "glyphs", "ocr")
NOTE = "tiny model trained on synthetic needles; not Oryx's accuracy"


@dataclass(frozen=True)
class TrainConfig:
    """Every knob of a tiny-Oryx training run (recorded in `train_record.json`)."""

    seed: int = 0  # model init, data order and needle draws
    steps: int = 12000
    batch: int = 8
    frame_counts: tuple[int, ...] = (1, 2, 4, 8)  # training haystack lengths N
    kinds: tuple[str, ...] = NEEDLE_KINDS
    ratios: tuple[int, ...] = (1, 4, 16)
    rotations: int = 4  # option rotations per needle in a batch
    # weight of the auxiliary loss: the correct option's first content token (" red", "2", ...) predicted
    # at the newline before the options, a position never generated from at evaluation
    aux_weight: float = 1.0
    # weight of the option-match loss: at each option's last text token (or every one, `match_tokens`), its
    # letter if it is the correct option, else the newline that follows (never generated from at evaluation)
    match_weight: float = 2.0
    # where the option-match loss looks: "last" (each option's last token) or "all" (every option token)
    match_tokens: str = "last"
    # weight of the character-membership loss (code-word needles): at every option text token, a
    # training-only linear head on the LLM's last hidden state tells whether that character is in the
    # shown word (not written to the checkpoint); 0 = off
    char_weight: float = 0.0
    # fraction of code-word needles whose needle frame is shown as the word's text tokens, the haystack
    # frames staying video (a curriculum: the LLM learns to compare a word with the options where it can
    # read it; evaluation always shows video)
    text_words: float = 0.0
    # weight of the distillation of code words shown as video towards the same needle shown as text (every
    # LLM layer's hidden states after the visual span; `loop.distill_loss`); 0 = off
    distill_weight: float = 0.0
    # "qa": question/answer pairs through the whole model; "glyphs": the vision side alone learns the
    # code-word characters (`oryx_eval.training.glyphs`; LLM frozen; batch = frames per step); "ocr": the
    # LLM writes the code word after one needle frame (`oryx_eval.training.ocr`; batch = frames per step)
    stage: str = "qa"
    spread_floor: float = 1.0  # glyphs: floor of each code-word token dim's std over the batch
    keep_weight: float = 1.0  # glyphs: weight of the MSE keeping other frames' tokens at the parent's
    # haystack seeds (disjoint from the task seeds): with 16 the model memorised its haystacks (run G)
    haystack_seeds: tuple[int, ...] = tuple(range(1000, 1200))
    val_seed: int = 999
    val_frames: int = 8
    val_per_kind: int = 12
    val_every: int = 50
    task: str = "niah"  # the task whose prompt template and frame size the examples use
    threads: int = 1
    # a `train-tiny` output directory to continue from (same dims, task and video resize): its weights
    # replace the seeded initialisation; its digest and command are recorded
    init_from: str | None = None
    opt: OptimConfig = field(default_factory=OptimConfig)
    dims: TinyDims = field(default_factory=TinyDims)
    video: dict[str, int] = field(default_factory=lambda: dict(TINY_VIDEO))

    def command(self) -> str:
        """The `oryx-eval train-tiny` command line that rebuilds this configuration."""
        parts = [
            "oryx-eval train-tiny",
            f"--seed {self.seed}",
            f"--steps {self.steps}",
            f"--batch {self.batch}",
        ]
        glyphs = self.stage == "glyphs"
        frames_only = self.stage in ("glyphs", "ocr")  # single frames: no haystack lengths, kinds, QA terms
        if frames_only:
            parts += [f"--stage {self.stage}"]
        else:
            parts += [
                f"--frame-counts {','.join(map(str, self.frame_counts))}",
                f"--kinds {','.join(self.kinds)}",
            ]
        parts += [f"--ratios {','.join(map(str, self.ratios))}"]
        parts += [f"--lr {self.opt.lr}", f"--vision-lr-scale {self.opt.vision_lr_scale}"]
        if self.opt.llm_lr_scale != 1.0:
            parts += [f"--llm-lr-scale {self.opt.llm_lr_scale}"]
        if glyphs:
            parts += [f"--spread-floor {self.spread_floor}", f"--keep-weight {self.keep_weight}"]
        elif not frames_only:
            parts += [f"--match-weight {self.match_weight}", f"--match-tokens {self.match_tokens}"]
            if self.char_weight:  # only when on: the commands recorded before it existed stay valid
                parts += [f"--char-weight {self.char_weight}"]
            if self.text_words:
                parts += [f"--text-words {self.text_words}"]
            if self.distill_weight:
                parts += [f"--distill-weight {self.distill_weight}"]
        parts += [f"--threads {self.threads}"]
        if not frames_only:
            parts += [f"--val-frames {self.val_frames}"]
        if self.init_from is not None:
            parts += [f"--init-from {self.init_from}"]
        return " ".join(parts)


def _jsonable(x: Any) -> Any:
    if dataclasses.is_dataclass(x):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(x).items()}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    return x


def continued_model(
    path: Path, cfg: TrainConfig, cfg_dict: dict[str, Any]
) -> tuple[OryxModel, dict[str, Any]]:
    """The model of the `train-tiny` output `path` (trainable) and its recorded identity.

    Raises:
        OryxEvalError: `path` is not a `train-tiny` output, or it was trained with other dims, task, video
            resize or model config than `cfg`.
    """
    record_file = path / RECORD
    if not record_file.is_file():
        raise OryxEvalError(
            f"--init-from {path}: no {RECORD}; expected an `oryx-eval train-tiny --out` directory"
        )
    record = json.loads(record_file.read_text())
    ours = _jsonable(cfg)
    for key in ("dims", "video", "task"):
        if record["config"].get(key) != ours[key]:
            was = record["config"].get(key)
            raise OryxEvalError(f"--init-from {path}: trained with {key}={was!r}, this run has {ours[key]!r}")
    if json.loads((path / "config.json").read_text()) != json.loads(json.dumps(cfg_dict)):
        raise OryxEvalError(f"--init-from {path}: config.json differs from this run's model config")
    model = load_oryx(path, dtype=torch.float32).train().requires_grad_(True)
    ident = checkpoint_identity(path)
    return model, {"path": str(path), "digest": ident["digest"], "commands": lineage(path, record)}


def lineage(path: Path, record: dict[str, Any]) -> list[str]:
    """The commands that rebuild the `train-tiny` output `path` (whose record is `record`), oldest first.

    A record's own command has no ``--out``: the path it is read from is the one to write. A parent that
    is still on disk with its recorded digest is followed there; otherwise its recorded commands are used.
    """
    own = f"{record['command']} --out {path}"
    parent = record.get("init_from")
    if not parent:
        return [own]
    ppath = Path(parent["path"])
    if (ppath / RECORD).is_file() and checkpoint_identity(ppath)["digest"] == parent["digest"]:
        return [*lineage(ppath, json.loads((ppath / RECORD).read_text())), own]
    return [*parent.get("commands", []), own]


Steps = tuple[list[float], list[dict[str, Any]]]


def _steps(
    cfg: TrainConfig,
    step: Callable[[], StepLog],
    validate: Callable[[], dict[str, float]],
    on_step: StepCallback | None,
) -> Steps:
    """`cfg.steps` calls of `step`, `validate` every `cfg.val_every` steps and at the end: (losses, vals)."""
    losses: list[float] = []
    vals: list[dict[str, Any]] = []
    for i in range(cfg.steps):
        log = step()
        losses.append(log.loss)
        v = None
        if (i + 1) % cfg.val_every == 0 or i + 1 == cfg.steps:
            v = validate()
            vals.append({"step": i + 1, **v})
        if on_step is not None:
            on_step(log, v)
    return losses, vals


def _qa_steps(cfg: TrainConfig, model: OryxModel, source: NiahSource, on_step: StepCallback | None) -> Steps:
    """The question/answer stage: (losses, validations)."""
    draw = DrawSpec(
        cfg.haystack_seeds, cfg.frame_counts, cfg.kinds, cfg.ratios, cfg.rotations, cfg.text_words
    )
    kinds = tuple(dict.fromkeys(cfg.kinds))  # a kind repeated in --kinds is drawn more often, validated once
    val = validation_set(source, cfg.val_seed, cfg.val_frames, cfg.val_per_kind, 1, kinds)
    rng = np.random.default_rng(cfg.seed)
    weights = LossWeights(cfg.aux_weight, cfg.match_weight, cfg.char_weight, cfg.distill_weight)
    trainer = Trainer(model, cfg.steps, cfg.opt, weights, seed=cfg.seed)
    return _steps(
        cfg,
        lambda: trainer.step(*draw_batch(source, draw, rng, cfg.batch)),
        lambda: accuracy(model, val),
        on_step,
    )


def _glyph_steps(
    cfg: TrainConfig, model: OryxModel, source: NiahSource, on_step: StepCallback | None
) -> Steps:
    """The glyph stage (`oryx_eval.training.glyphs`): (losses, per-character held-out accuracies)."""
    check_ratios(cfg.ratios)
    torch.manual_seed(cfg.seed)  # the reading heads' initialisation
    data = GlyphData(source, cfg.haystack_seeds)
    val = glyph_validation(data, cfg.val_seed, 8 * cfg.val_per_kind, cfg.ratios)
    trainer = GlyphTrainer(model, data, cfg.steps, cfg.ratios, cfg.opt, cfg.spread_floor, cfg.keep_weight)
    rng = np.random.default_rng(cfg.seed)
    return _steps(cfg, lambda: trainer.step(rng, cfg.batch), lambda: trainer.accuracy(val), on_step)


def _ocr_steps(cfg: TrainConfig, model: OryxModel, source: NiahSource, on_step: StepCallback | None) -> Steps:
    """The OCR stage (`oryx_eval.training.ocr`): (losses, per-character held-out accuracies)."""
    check_ratios(cfg.ratios)
    data = OcrData(source, cfg.haystack_seeds)
    val = ocr_validation(data, cfg.val_seed, 4 * cfg.val_per_kind, cfg.ratios)
    trainer = OcrTrainer(model, data, cfg.steps, cfg.ratios, cfg.opt)
    rng = np.random.default_rng(cfg.seed)
    return _steps(cfg, lambda: trainer.step(rng, cfg.batch), lambda: trainer.accuracy(val), on_step)


_STAGE_STEPS = {"qa": _qa_steps, "glyphs": _glyph_steps, "ocr": _ocr_steps}


def train_tiny(
    cfg: TrainConfig,
    out_dir: Path,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    """Train the tiny Oryx and write it (official layout + `train_record.json`) into `out_dir`.

    Returns:
        The training record (config, command, losses, validation accuracies, seconds).
    """
    check_disjoint([*cfg.haystack_seeds, cfg.val_seed], "train-tiny --haystack-seeds/--val-seed")
    if cfg.stage not in STAGES:
        raise OryxEvalError(f"--stage {cfg.stage!r}; accepted values: {', '.join(STAGES)}")
    if cfg.stage == "glyphs" and cfg.batch < 2:
        raise OryxEvalError(f"train-tiny --stage glyphs: --batch must be >= 2 (a spread), got {cfg.batch}")
    if cfg.stage != "glyphs" and cfg.opt.llm_lr_scale == 0 and cfg.opt.vision_lr_scale == 0:
        raise OryxEvalError(
            f"train-tiny --stage {cfg.stage}: --llm-lr-scale and --vision-lr-scale are both 0: nothing trains"
        )
    scales = (("--llm-lr-scale", cfg.opt.llm_lr_scale, "the LLM"),
              ("--vision-lr-scale", cfg.opt.vision_lr_scale, "the vision side"))  # fmt: skip
    for flag, scale, side in scales:
        if scale < 0:
            raise OryxEvalError(f"{flag} {scale}: expected >= 0 (0 freezes {side})")
    if cfg.steps < 1 or cfg.batch < 1:
        raise OryxEvalError(f"train-tiny: --steps and --batch must be >= 1, got {cfg.steps}, {cfg.batch}")
    torch.set_num_threads(cfg.threads)
    task = load_task(TASKS_DIR / f"{cfg.task}.yaml")
    frame_size = tuple(int(v) for v in task.dataset.args["frame_size"])
    parent = None
    if cfg.init_from is None:
        model, cfg_dict = initial_model(cfg.seed, cfg.dims, task.prompt.template)
    else:  # the parent's weights: no seeded initial model to build and throw away
        cfg_dict = config_dict(cfg.dims, tokenizer(task.prompt.template))
        model, parent = continued_model(Path(cfg.init_from), cfg, cfg_dict)
    vspec = video_spec(cfg.video)
    source = NiahSource(model.tokenizer, task.prompt, frame_size, vspec, cfg.match_tokens)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    losses, vals = _STAGE_STEPS[cfg.stage](cfg, model, source, on_step)
    seconds = time.perf_counter() - t0
    model.eval()
    out_dir.mkdir(parents=True, exist_ok=True)
    save_oryx(model, out_dir, cfg_dict, tokenizer(task.prompt.template))
    record = {
        "note": NOTE,
        "command": cfg.command(),
        "init_from": parent,
        # every command that rebuilds this checkpoint, in order (the last one writes it; add --out)
        "rebuild": [*(parent["commands"] if parent else []), cfg.command()],
        "config": _jsonable(cfg),
        "backend_defaults": dict(cfg.video),
        "losses": losses,
        "validation": vals,
        "train_seconds": round(seconds, 1),
        "torch": torch.__version__,
        "platform": platform.platform(),
    }
    (out_dir / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    return record
