"""``oryx-eval serve``: put a backend behind an OpenAI-compatible HTTP endpoint."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from oryx_eval.errors import OryxEvalError
from oryx_eval.runner import DEFAULT_CACHE, build_backend
from oryx_eval.serve import ChatService, make_server


def _args(model_path: str | None, device: str | None, items: list[str]) -> dict[str, Any]:
    args: dict[str, Any] = {k: v for k, v in (("model_path", model_path), ("device", device)) if v}
    for item in items:
        k, sep, v = item.partition("=")
        if not sep or not k.strip():
            raise OryxEvalError(f"--model-arg {item!r}: expected KEY=VALUE")
        args[k.strip()] = yaml.safe_load(v)
    return args


def serve_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help="Backend: oryx, oryx-tiny, ...")] = "oryx",
    model_path: Annotated[str | None, typer.Option(help="Local checkpoint directory (oryx).")] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda, cuda:1 ...")] = None,
    model_arg: Annotated[list[str], typer.Option(help="Extra backend argument KEY=VALUE.")] = [],  # noqa: B006
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: pick a free one).")] = 8000,
    compression: Annotated[str, typer.Option(help="Default compression: 1, 4, 16, auto.")] = "4",
    served_name: Annotated[
        str | None, typer.Option(help="Model id in /v1/models (default: --model).")
    ] = None,
    cache_dir: Annotated[Path, typer.Option(help="Cache for tiny checkpoints.")] = DEFAULT_CACHE,
) -> None:
    """Serve a backend at http://HOST:PORT/v1 (chat/completions, models) for other tools to call."""
    try:
        backend = build_backend(model, _args(model_path, device, model_arg), cache_dir)
    except OryxEvalError as e:
        print(f"error: {e}", file=sys.stderr)
        raise typer.Exit(2) from None
    service = ChatService(backend, served_name or model, compression)
    server = make_server(service, host, port)
    h, p = server.server_address[:2]
    print(f"oryx-eval serve: {service.model_id} at http://{h}:{p}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
