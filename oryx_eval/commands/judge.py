"""``oryx-eval judge RUN_DIR --judge-model NAME``: an LLM judge scores a run's MLVU generation tasks (G-avg).

Writes ``RUN_DIR/judge/<task>/{judgements.jsonl,g_avg.json}`` (see ``oryx_eval.judge.run_folder``).
Exit 0: every judgement has a reply; 1: some failed after retries (counted apart; the same command
sends only those again); 2: bad input (not a run folder, no generation records, another judge recorded).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from oryx_eval.errors import OryxEvalError


def judge_cmd(
    run_dir: Annotated[Path, typer.Argument(help="A finished run folder (results/<run_id>).")],
    judge_model: Annotated[str, typer.Option(help="Judge model name (MLVU's official judge: gpt-4-turbo).")],
    judge_base_url: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible base URL (default: OPENAI_BASE_URL, else api.openai.com)."),
    ] = None,
    judge_api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the judge's API key (never written).")
    ] = "OPENAI_API_KEY",
    concurrency: Annotated[int, typer.Option(min=1, help="Judge requests in flight at once.")] = 4,
    timeout_s: Annotated[float, typer.Option(help="Per-request timeout in seconds.")] = 120.0,
    max_retries: Annotated[int, typer.Option(min=0, help="Retries on 429/5xx/timeouts per request.")] = 4,
    backoff_s: Annotated[float, typer.Option(help="First retry wait (doubles each retry).")] = 1.0,
    rejudge: Annotated[
        bool, typer.Option(help="Judge every sample again (needed when the judge model/prompt changed).")
    ] = False,
) -> None:
    """Judge every MLVU generation record of RUN_DIR (resumable) and write G-avg beside it."""
    from oryx_eval.judge.mlvu import LLMJudge
    from oryx_eval.judge.run_folder import g_avg_lines, judge_run

    out, err = Console(soft_wrap=True), Console(stderr=True, soft_wrap=True)
    try:
        judge = LLMJudge(model=judge_model, base_url=judge_base_url, api_key_env=judge_api_key_env,
                         timeout_s=timeout_s, max_retries=max_retries, backoff_s=backoff_s,
                         concurrency=concurrency)  # fmt: skip
        outcomes = judge_run(
            run_dir, judge, rejudge=rejudge, batch=4 * concurrency,
            on_progress=lambda t, d, n: err.print(f"{t}: judged {d}/{n}"),
        )  # fmt: skip
    except OryxEvalError as e:
        err.print(f"[red]error:[/] {escape(str(e))}")
        raise typer.Exit(2) from None
    failed = 0
    for o in outcomes:
        failed += sum(s["n_judge_failed"] for s in o.summary["by_compression"].values())
        out.print(f"{o.task}: sent {o.sent}, reused {o.reused}, not judged (failed samples) {o.not_judged}"
                  f" -> {o.out_dir}")  # fmt: skip
    for line in g_avg_lines(run_dir):
        out.print(escape(line))
    if failed:
        err.print(f"[yellow]incomplete:[/] {failed} judgement(s) failed after retries (left out of G-avg); "
                  "run the same command again to send only those")  # fmt: skip
        raise typer.Exit(1)
