"""The VideoMME projection from the measured figures, and the printed summary table."""

from __future__ import annotations

from typing import Any

from flops import shared_video_flops, video_cost

from model.config import OryxConfig

VIDEOMME_QUESTIONS = 2700
VIDEOMME_VIDEOS = 900  # 3 questions per video
QUESTION_TOKENS = 60  # one question + options + answer instruction (Qwen2 tokens, estimate)


def projection(cfg: OryxConfig, sections: dict[str, Any], frames: int, answer_tokens: int) -> dict[str, Any]:
    """Full VideoMME (2,700 questions, 64 frames of 720p at 4x) on one such GPU, next to its FLOP bound."""
    ceil = sections.get("ceilings", {})
    peak, bw = ceil.get("peak_tflops"), ceil.get("bandwidth_gb_s")
    if not peak or not bw:
        raise RuntimeError("no measured ceilings (the ceilings section did not run)")
    cost = video_cost(cfg, frames, 4, (1280, 720), 0)
    fl, by = shared_video_flops(cfg, cost, 3, QUESTION_TOKENS, answer_tokens)
    per_video = fl / (peak * 1e12) + by / (bw * 1e9)
    out: dict[str, Any] = {
        "assumptions": {
            "videos": VIDEOMME_VIDEOS,
            "questions": VIDEOMME_QUESTIONS,
            "frames": frames,
            "source_wh": [1280, 720],
            "compression": 4,
            "question_tokens": QUESTION_TOKENS,
            "answer_tokens": answer_tokens,
            "shared_prefix": True,
        },
        "bound": {
            "flops_per_video": fl,
            "decode_bytes_per_video": by,
            "s_per_video": per_video,
            "total_s": VIDEOMME_VIDEOS * per_video,
            "how": "FLOPs / measured matmul peak + decode bytes / measured copy bandwidth",
        },
    }
    shared = sections.get("shared_prefix", {}).get("shared", {}).get("best_s")
    if shared:  # model alone, decoded frames in hand (3 questions per call)
        out["model_only_total_s"] = VIDEOMME_VIDEOS * shared
    best = (sections.get("harness") or {}).get("best")
    if best:
        out["harness_total_s"] = VIDEOMME_QUESTIONS / best["questions_per_s"]
        out["harness_workers"] = best["workers"]
        out["harness_decode_s_per_video"] = best["decode_s_per_video"]
    for k in ("model_only_total_s", "harness_total_s"):
        if k in out:
            out[k.replace("total_s", "over_bound")] = out[k] / out["bound"]["total_s"]
    return out


def _f(x: Any, fmt: str = ".3g") -> str:
    return "-" if x is None else format(x, fmt) if isinstance(x, (int, float)) else str(x)


def table(res: dict[str, Any]) -> str:
    """A short plain-text summary of the JSON (the device tool returns the end of the output)."""
    s = res["sections"]
    lines = [
        f"GPU check ({'DRY RUN, tiny dims: not Oryx-7B figures' if res['meta']['dry_run'] else 'Oryx-7B'}),"
        f" wall {res['meta'].get('wall_s', 0):.0f} s"
    ]
    for name, sec in s.items():
        lines.append(
            f"  [{sec.get('status')}] {name} ({sec.get('wall_s', 0):.1f} s)"
            + (f": {sec.get('error') or sec.get('reason')}" if sec.get("status") != "ok" else "")
        )
    env = s.get("environment", {})
    if env.get("status") == "ok":
        p = env["packages"]
        lines.append(
            f"env: torch {p['torch']} (CUDA {env['torch_cuda']}), transformers {p['transformers']}, "
            f"gpu {env.get('gpu', {}).get('name', '-')}, flash-attn {p['flash-attn'] or 'absent'}"
        )
    c = s.get("ceilings", {})
    if c.get("status") == "ok":
        lines.append(
            f"ceilings: bf16 matmul {c['peak_tflops']:.0f} TFLOP/s, copy {c['bandwidth_gb_s']:.0f} GB/s"
        )
    t = s.get("gpu_tests", {})
    if t.get("status") == "ok":
        lines.append(f"gpu tests: {t['counts']} ok={t['ok']}")
    v = s.get("vit_correctness", {})
    for k, d in (v.get("variants") or {}).items():
        if "images" in d:
            lines.append(
                f"vit {k:<11} vs fp32: images rel {d['images']['rel_l2']:.2e} "
                f"max {d['images']['max_abs_diff']:.2e}"
                f" | video rel {d['video']['rel_l2']:.2e} max {d['video']['max_abs_diff']:.2e}"
            )
        else:
            lines.append(f"vit {k:<11}: {d.get('status')}")
    sp = s.get("vit_speed", {})
    for b in ("sdpa", "flash"):
        d = sp.get(b)
        if isinstance(d, dict):
            for k in ("video_64f", "images_mixed"):
                lines.append(
                    f"vit {b} {k}: {d[k]['median_s'] * 1e3:.1f} ms, {d[k]['tokens_per_s']:.3g} tok/s, "
                    f"{d[k]['tflops']:.1f} TFLOP/s ({_f(d[k]['of_peak'], '.0%')} of peak)"
                )
    lm = s.get("llm", {})
    if lm.get("status") == "ok":
        p, d = lm["prefill"], lm["decode"]
        lines.append(
            f"prefill {p['tokens']} tok: {p['median_s'] * 1e3:.0f} ms, {p['tflops']:.0f} TFLOP/s "
            f"({_f(p['of_peak'], '.0%')}); decode {_f(d['tokens_per_s'], '.1f')} tok/s "
            f"({_f(d['gb_s'], '.0f')} GB/s, {_f(d['of_bandwidth'], '.0%')} of copy bw)"
        )
    sh = s.get("shared_prefix", {})
    if sh.get("status") == "ok":
        lines.append(
            f"3 questions: independent {sh['independent']['best_s']:.2f} s, "
            f"shared {sh['shared']['best_s']:.2f} s"
            f" ({sh['speedup']:.2f}x), identical {sh['outputs_identical']}"
        )
    for r in (s.get("harness") or {}).get("runs", []):
        if "questions_per_s" in r:
            lines.append(
                f"harness {r['workers']:>2} workers: {r['questions_per_s']:.2f} q/s, GPU waited "
                f"{r['gpu_waited_for_media_share']:.0%} (first {r['first_media_wait_s']:.1f} s), "
                f"preprocess {r['main_thread_preprocess_share']:.0%}, "
                f"decode {r['decode_s_per_video']:.2f} s/video, "
                f"failed {r['failed']}"
            )
        else:
            lines.append(f"harness {r['workers']:>2} workers: {r.get('status')}")
    pr = s.get("projection", {})
    if pr.get("status") == "ok":
        lines.append(
            f"VideoMME 2,700 q: bound {pr['bound']['total_s'] / 60:.1f} min; model-only "
            f"{_f(pr.get('model_only_total_s', None) and pr['model_only_total_s'] / 60, '.1f')} min; harness "
            f"{_f(pr.get('harness_total_s', None) and pr['harness_total_s'] / 60, '.1f')} min"
        )
    return "\n".join(lines)
