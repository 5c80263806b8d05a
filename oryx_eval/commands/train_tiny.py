"""`oryx-eval train-tiny`: train the tiny Oryx on synthetic needles and write its checkpoint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from oryx_eval.errors import OryxEvalError

# defaults of oryx_eval.training.train.TrainConfig, repeated so `oryx-eval --help` does not import torch
# (tests/oryx_eval/commands/test_train_tiny_cmd.py checks they agree)
DEFAULTS = {
    "seed": 0,
    "steps": 12000,
    "batch": 8,
    "frame_counts": "1,2,4,8",
    "kinds": "code_word,shape,count,order",
    "ratios": "1,4,16",
    "lr": 1e-3,
    "vision_lr_scale": 0.1,
    "match_weight": 2.0,
    "match_tokens": "last",
    "char_weight": 0.0,
    "text_words": 0.0,
    "distill_weight": 0.0,
    "llm_lr_scale": 1.0,
    "threads": 1,
    "val_frames": 8,
    "stage": "qa",
    "spread_floor": 1.0,
    "keep_weight": 1.0,
}

err = Console(stderr=True)


def _ints(text: str, what: str) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise OryxEvalError(f"{what} {text!r}: expected comma-separated integers, e.g. 2,4,8") from None


def _kinds(val: dict[str, float]) -> str:
    """``0.91 (shape 1.00, count 0.82)``: overall and per-kind held-out accuracy."""
    per_kind = ", ".join(f"{k} {v:.2f}" for k, v in val.items() if k not in ("step", "all"))
    return f"{val['all']:.2f} ({per_kind})"


def train_tiny_cmd(
    out: Annotated[Path, typer.Option(help="Checkpoint directory to write (official layout).")] = Path(
        "oryx-tiny-niah"
    ),
    seed: Annotated[
        int, typer.Option(help="Seed of the initial weights, data order and needles.")
    ] = DEFAULTS["seed"],
    steps: Annotated[int, typer.Option(help="Optimizer steps.")] = DEFAULTS["steps"],
    batch: Annotated[int, typer.Option(help="Examples per step.")] = DEFAULTS["batch"],
    frame_counts: Annotated[str, typer.Option(help="Training haystack lengths, comma-separated.")] = DEFAULTS[
        "frame_counts"
    ],
    kinds: Annotated[
        str,
        typer.Option(help="Needle kinds to train on, comma-separated (repeat one to draw it more often)."),
    ] = DEFAULTS["kinds"],
    ratios: Annotated[
        str,
        typer.Option(
            help="Compression ratios drawn per step, comma-separated (of 1,4,16; repeat one to draw "
            "it more often)."
        ),
    ] = DEFAULTS["ratios"],
    lr: Annotated[float, typer.Option(help="AdamW peak learning rate (the LLM's).")] = DEFAULTS["lr"],
    vision_lr_scale: Annotated[
        float,
        typer.Option(
            help="Learning-rate multiplier of OryxViT, compressor and projector; 0 freezes them (out of the "
            "optimiser, no backward pass through the ViT)."
        ),
    ] = DEFAULTS["vision_lr_scale"],
    match_weight: Annotated[
        float, typer.Option(help="Weight of the option-match loss (positions: --match-tokens).")
    ] = DEFAULTS["match_weight"],
    match_tokens: Annotated[
        str,
        typer.Option(help="Where the option-match loss looks: last (each option's last token) or all."),
    ] = DEFAULTS["match_tokens"],
    char_weight: Annotated[
        float,
        typer.Option(
            help="Weight of the per-character membership loss on code-word options (a training-only head "
            "on the LLM's hidden state at each option character: is it in the shown word?); 0 = off."
        ),
    ] = DEFAULTS["char_weight"],
    text_words: Annotated[
        float,
        typer.Option(
            help="Fraction of code-word needles whose needle frame is shown as the word's text tokens, the "
            "haystack frames staying video (a curriculum for the LLM's word/option comparison; validation "
            "and evaluation show video); 0 = never."
        ),
    ] = DEFAULTS["text_words"],
    distill_weight: Annotated[
        float,
        typer.Option(
            help="Weight of distilling code words shown as video towards the same needle shown as text "
            "(every LLM layer's hidden states after the video); 0 = off."
        ),
    ] = DEFAULTS["distill_weight"],
    llm_lr_scale: Annotated[
        float,
        typer.Option(help="LLM learning rate = --lr x this; 0 freezes the LLM (the vision side trains)."),
    ] = DEFAULTS["llm_lr_scale"],
    threads: Annotated[int, typer.Option(help="torch CPU threads (results depend on it).")] = DEFAULTS[
        "threads"
    ],
    val_frames: Annotated[
        int, typer.Option(help="Haystack length of the held-out validation needles.")
    ] = DEFAULTS["val_frames"],
    stage: Annotated[
        str,
        typer.Option(
            help="qa (question/answer pairs, the whole model), glyphs (the vision side alone learns the "
            "code-word characters; the LLM is frozen; --batch counts frames; uses --seed, --steps, --ratios, "
            "--lr x --vision-lr-scale, --spread-floor, --keep-weight, --threads, --init-from) or ocr "
            "(the LLM writes the code word after one needle frame, no options; --batch counts frames; "
            "--vision-lr-scale 0 freezes the vision side, which is what let it learn)."
        ),
    ] = DEFAULTS["stage"],
    spread_floor: Annotated[
        float, typer.Option(help="glyphs: floor of the spread of each code-word token dim over the batch.")
    ] = DEFAULTS["spread_floor"],
    keep_weight: Annotated[
        float, typer.Option(help="glyphs: weight of keeping other frames' tokens at the parent's.")
    ] = DEFAULTS["keep_weight"],
    init_from: Annotated[
        Path | None,
        typer.Option(help="A train-tiny output to continue from (same dims); its digest is recorded."),
    ] = None,
) -> None:
    """Train the tiny Oryx (OryxViT, compressor, projector, Qwen2; tiny widths) on NIAH needles."""
    try:
        from oryx_eval.training.loop import OptimConfig
        from oryx_eval.training.train import TrainConfig, train_tiny

        cfg = TrainConfig(
            seed=seed,
            steps=steps,
            batch=batch,
            frame_counts=_ints(frame_counts, "--frame-counts"),
            kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
            ratios=_ints(ratios, "--ratios"),
            match_weight=match_weight,
            match_tokens=match_tokens,
            char_weight=char_weight,
            text_words=text_words,
            distill_weight=distill_weight,
            threads=threads,
            val_frames=val_frames,
            stage=stage,
            spread_floor=spread_floor,
            keep_weight=keep_weight,
            init_from=None if init_from is None else str(init_from),
            opt=OptimConfig(lr=lr, vision_lr_scale=vision_lr_scale, llm_lr_scale=llm_lr_scale),
        )
        plain = not sys.stderr.isatty()  # a log file: one line per validation instead of a live bar
        with Progress(
            TextColumn("[bold]train-tiny"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]:.3f}  held-out acc {task.fields[acc]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=plain,
        ) as progress:
            bar = progress.add_task("steps", total=cfg.steps, loss=float("nan"), acc="-")
            state = {"ema": None}

            def on_step(log, val) -> None:  # type: ignore[no-untyped-def]
                ema = log.loss if state["ema"] is None else 0.9 * state["ema"] + 0.1 * log.loss
                state["ema"] = ema
                fields = {"loss": ema}
                if val is not None:
                    fields["acc"] = f"{val['all']:.2f}"
                    if plain:
                        parts = " ".join(f"{k} {v:.3f}" for k, v in log.parts.items())
                        line = (
                            f"step {log.step + 1}/{cfg.steps} loss {ema:.3f} ({parts}) held-out {_kinds(val)}"
                        )
                        err.print(line, soft_wrap=True)
                progress.update(bar, advance=1, **fields)

            record = train_tiny(cfg, out, on_step)
        last = record["validation"][-1]
        err.print(f"wrote {out} in {record['train_seconds']} s; held-out accuracy {_kinds(last)}")
        err.print(f"note: {record['note']}")
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {e}")
        raise typer.Exit(2) from None
