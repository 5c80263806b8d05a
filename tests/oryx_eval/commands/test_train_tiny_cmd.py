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
        "char_weight": cfg.char_weight,
        "text_words": cfg.text_words,
        "distill_weight": cfg.distill_weight,
        "llm_lr_scale": cfg.opt.llm_lr_scale,
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


def test_unknown_stage_a_glyph_batch_of_one_and_a_stage_training_nothing_exit_2(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", "--stage", "caption"])
    assert res.exit_code == 2 and "--stage 'caption'; accepted values: qa, glyphs, ocr" in res.output
    args = ["train-tiny", "--out", str(out), "--steps", "1", "--stage", "glyphs", "--batch", "1"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "--batch must be >= 2" in res.output
    frozen = ["--stage", "ocr", "--vision-lr-scale", "0", "--llm-lr-scale", "0"]
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", *frozen])
    assert res.exit_code == 2 and "--llm-lr-scale and --vision-lr-scale are both 0" in res.output
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", *frozen[2:]])
    assert res.exit_code == 2 and "--stage qa: --llm-lr-scale and --vision-lr-scale are both 0" in res.output
    assert not out.exists()


def test_curriculum_flags_are_recorded_only_when_set() -> None:
    from oryx_eval.training.loop import OptimConfig

    cfg = TrainConfig(char_weight=1.0, text_words=0.5, distill_weight=2.0, opt=OptimConfig(llm_lr_scale=0.0))
    cmd = cfg.command()
    assert "--char-weight 1.0" in cmd and "--text-words 0.5" in cmd and "--llm-lr-scale 0.0" in cmd
    assert "--distill-weight 2.0" in cmd
    # off: not in the command, so the commands recorded before the flag existed stay valid
    assert "--distill-weight" not in TrainConfig().command()
    assert cmd.index("--llm-lr-scale") < cmd.index("--match-weight") < cmd.index("--text-words")


def test_bad_text_words_and_lr_scales_exit_2_and_write_nothing(tmp_path) -> None:
    out = tmp_path / "x"
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", "--text-words", "1.5"])
    assert res.exit_code == 2 and "--text-words 1.5: expected a fraction in [0, 1]" in res.output
    res = CliRunner().invoke(app, ["train-tiny", "--out", str(out), "--steps", "1", "--llm-lr-scale", "-1"])
    assert res.exit_code == 2 and "--llm-lr-scale -1.0: expected >= 0" in res.output
    for stage in ("qa", "glyphs", "ocr"):
        args = ["train-tiny", "--out", str(out), "--stage", stage, "--vision-lr-scale", "-0.5"]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2, (stage, res.output)
        assert "--vision-lr-scale -0.5: expected >= 0" in res.output
    assert not out.exists()
