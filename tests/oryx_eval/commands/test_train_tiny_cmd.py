"""`oryx-eval train-tiny`: CLI defaults equal the recipe's, bad arguments exit 2 with one line."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import app
from oryx_eval.commands.train_tiny import DEFAULTS
from oryx_eval.training.train import TrainConfig


def test_cli_defaults_are_the_recipe_defaults() -> None:
    cfg = TrainConfig()
    assert DEFAULTS == {
        "seed": cfg.seed,
        "steps": cfg.steps,
        "batch": cfg.batch,
        "frame_counts": ",".join(map(str, cfg.frame_counts)),
        "kinds": ",".join(cfg.kinds),
        "ratios": ",".join(map(str, cfg.ratios)),
        "lr": cfg.opt.lr,
        "vision_lr_scale": cfg.opt.vision_lr_scale,
        "match_weight": cfg.match_weight,
        "match_tokens": cfg.match_tokens,
        "threads": cfg.threads,
        "val_frames": cfg.val_frames,
        "stage": cfg.stage,
        "spread_floor": cfg.spread_floor,
        "keep_weight": cfg.keep_weight,
    }
    assert cfg.command() == (
        f"oryx-eval train-tiny --seed 0 --steps {cfg.steps} --batch {cfg.batch} "
        f"--frame-counts {DEFAULTS['frame_counts']} --kinds {DEFAULTS['kinds']} "
        f"--ratios {DEFAULTS['ratios']} --lr {cfg.opt.lr} "
        f"--vision-lr-scale {cfg.opt.vision_lr_scale} --match-weight {cfg.match_weight} "
        f"--match-tokens {cfg.match_tokens} "
        f"--threads {cfg.threads} --val-frames {cfg.val_frames}"
    )


def test_bad_frame_counts_exit_2(tmp_path) -> None:
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(tmp_path / "x"), "--frame-counts", "a,b"])
    assert res.exit_code == 2 and "--frame-counts" in res.output


def test_unknown_needle_kind_exits_2_and_writes_nothing(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--kinds", "shape,foo", "--steps", "1"])
    assert res.exit_code == 2 and "--kinds" in res.output and "foo" in res.output
    assert not out.exists()


def test_init_from_a_directory_that_is_no_train_tiny_output_exits_2(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(
        app, ["train-tiny", "--out", str(out), "--steps", "1", "--init-from", str(tmp_path)]
    )
    assert res.exit_code == 2 and "--init-from" in res.output and "train_record.json" in res.output
    assert not out.exists()


def test_bad_ratios_and_match_tokens_exit_2_and_write_nothing(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", "--ratios", "1,8"])
    assert res.exit_code == 2 and "--ratios [1, 8]; accepted values: [1, 4, 16]" in res.output
    args = ["train-tiny", "--out", str(out), "--steps", "1", "--match-tokens", "first"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--match-tokens 'first'; accepted values: last, all" in res.output
    assert not out.exists()


def test_unknown_stage_and_a_glyph_batch_of_one_exit_2_and_write_nothing(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", "--stage", "ocr"])
    assert res.exit_code == 2 and "--stage 'ocr'; accepted values: qa, glyphs" in res.output
    args = ["train-tiny", "--out", str(out), "--steps", "1", "--stage", "glyphs", "--batch", "1"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--batch must be >= 2" in res.output
    assert not out.exists()
