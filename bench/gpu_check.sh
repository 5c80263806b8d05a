#!/usr/bin/env bash
# Entry point on the GPU machine (docs/gpu.md has the exact device call): install the carried wheels
# (.whl/, made by bench/fetch_gpu_wheels.sh) offline into /tmp/site, check the project imports, then run
# bench/gpu_check.py with the given arguments, e.g. `bash bench/gpu_check.sh --out "$OUT"`.
set -euo pipefail
cd "$(dirname "$0")/.."
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH="/tmp/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  echo "note: no .whl/ here; using the installed packages" >&2
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONUNBUFFERED=1
python3 -c "import av, pydantic, oryx_eval.runner, cli; print('project imports: ok (av', av.__version__, ', pydantic', pydantic.VERSION, ')')"
exec python3 bench/gpu_check.py "$@"
