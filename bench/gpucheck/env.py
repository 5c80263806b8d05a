"""Environment of the GPU machine and the project's `gpu`-marked tests."""

from __future__ import annotations

import importlib
import os
import platform
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parents[2]
PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "numpy",
    "av",
    "pydantic",
    "pydantic-core",
    "typer",
    "rich",
    "pandas",
    "pillow",
    "pyyaml",
    "xxhash",
    "safetensors",
    "flash-attn",
    "triton",
)


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _importable(module: str) -> str:
    try:
        importlib.import_module(module)
        return "yes"
    except Exception as e:  # noqa: BLE001 - any import failure is the finding
        return f"no ({type(e).__name__}: {str(e)[:120]})"


def environment(device: torch.device) -> dict[str, Any]:
    """Versions, the GPU, and which attention backends this torch / these packages offer."""
    from model.attention import _varlen_attn_fn

    out: dict[str, Any] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "packages": {p: _version(p) for p in PACKAGES},
        "torch_cuda": torch.version.cuda,
        "cuda_available": torch.cuda.is_available(),
        "device": str(device),
    }
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        out["gpu"] = {
            "name": props.name,
            "memory_gib": props.total_memory / 2**30,
            "sm_count": props.multi_processor_count,
            "capability": list(torch.cuda.get_device_capability(device)),
            "cudnn": torch.backends.cudnn.version(),
        }
    out["attention"] = {
        "flash_attn (ViT backend 'flash')": _importable("flash_attn"),
        "torch varlen_attn (used by 'sdpa' for packed bf16 on CUDA)": "yes" if _varlen_attn_fn() else "no",
        "sdpa flash kernel enabled": torch.backends.cuda.flash_sdp_enabled(),
        "sdpa mem-efficient kernel enabled": torch.backends.cuda.mem_efficient_sdp_enabled(),
        "sdpa cudnn kernel enabled": torch.backends.cuda.cudnn_sdp_enabled(),
    }
    out["project_imports"] = {m: _importable(m) for m in ("av", "pydantic", "oryx_eval.runner", "cli")}
    return out


def gpu_tests(paths: tuple[str, ...], timeout_s: float, threads: int = 0) -> dict[str, Any]:
    """`pytest -m gpu` over `paths` in a subprocess; counts read from its JUnit XML."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "junit.xml"
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-m",
            "gpu",
            "-q",
            "-p",
            "no:cacheprovider",
            "--junitxml",
            str(xml),
            *paths,
        ]
        try:
            penv = dict(os.environ, OMP_NUM_THREADS=str(threads)) if threads else None
            res = subprocess.run(
                cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout_s, check=False, env=penv
            )
        except subprocess.TimeoutExpired as e:
            raise RuntimeError(f"pytest -m gpu did not finish in {timeout_s:.0f} s") from e
        tail = (res.stdout + res.stderr).strip().splitlines()[-15:]
        if not xml.exists():
            raise RuntimeError(f"pytest wrote no report (rc {res.returncode}): {' | '.join(tail)}")
        suite = ET.parse(xml).getroot()
        suite = suite if suite.tag == "testsuite" else suite[0]
        cases = [
            {
                "name": f"{c.get('classname')}::{c.get('name')}",
                "outcome": next((ch.tag for ch in c if ch.tag in ("failure", "error", "skipped")), "passed"),
                "message": next(
                    (ch.get("message", "")[:300] for ch in c if ch.tag in ("failure", "error", "skipped")), ""
                ),
            }
            for c in suite.iter("testcase")
        ]
    counts = {k: sum(c["outcome"] == k for c in cases) for k in ("passed", "failure", "error", "skipped")}
    return {
        "command": " ".join(cmd[1:]),
        "returncode": res.returncode,
        "counts": counts,
        "cases": cases,
        "output_tail": tail,
        "ok": res.returncode in (0, 5) and not counts["failure"] and not counts["error"],
    }
