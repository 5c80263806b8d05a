"""Backend arguments checked against the factory's declared parameters and types before any work."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import ConfigDict, ValidationError, create_model

from oryx_eval.errors import BackendError


def backend_params(factory: Callable) -> dict[str, inspect.Parameter]:
    """Named parameters of a backend factory or class (``**kwargs`` excluded), annotations resolved."""
    sig = inspect.signature(factory, eval_str=True)
    skip = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    return {n: p for n, p in sig.parameters.items() if p.kind not in skip}


def declare_params(factory: Callable, cls: type, drop: tuple[str, ...] = ("model_path",),
                   lead: tuple[inspect.Parameter, ...] = ()) -> Callable:  # fmt: skip
    """Give a ``**kwargs``-forwarding factory the signature of ``cls`` (minus ``drop``, after ``lead``), so
    its arguments are checked by name and type before any work. Returns ``factory``."""
    kw = inspect.Parameter.KEYWORD_ONLY
    own = [
        p.replace(kind=kw)
        for n, p in inspect.signature(cls, eval_str=True).parameters.items()
        if n not in drop
    ]
    factory.__signature__ = inspect.Signature([p.replace(kind=kw) for p in lead] + own)  # type: ignore[attr-defined]
    return factory


MODEL_PATH = inspect.Parameter(
    "model_path", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=str | None
)


def validate_backend_args(name: str, factory: Callable, args: dict[str, Any]) -> dict[str, Any]:
    """``args`` coerced to the declared types; one-line ``BackendError`` naming the argument otherwise.

    YAML-parsed ``--model-arg`` values arrive as str/int/float/bool; pydantic's lax mode converts what is
    unambiguous (``"480"`` -> 480) and rejects the rest (``video_max_side=abc``, ``dtype=fp8``).
    """
    params = backend_params(factory)
    for k in args:
        if k not in params:
            close = difflib.get_close_matches(k, list(params), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise BackendError(
                f"backend {name!r}: unknown argument {k!r}{hint}; accepted: {', '.join(params) or '(none)'}"
            )
    fields: dict[str, Any] = {}
    for n, p in params.items():
        ann = Any if p.annotation is inspect.Parameter.empty else p.annotation
        fields[n] = (ann, ... if p.default is inspect.Parameter.empty else p.default)
    model = create_model(
        f"{name}_args", __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=True), **fields
    )
    try:
        parsed = model(**args)
    except ValidationError as e:
        err = e.errors()[0]
        arg = ".".join(str(x) for x in err["loc"]) or "(arguments)"
        if err["type"] == "missing":
            raise BackendError(f"backend {name!r}: argument {arg!r} is required") from None
        raise BackendError(f"backend {name!r}: argument {arg}={err.get('input')!r}: {err['msg']}") from None
    return {k: getattr(parsed, k) for k in args}
