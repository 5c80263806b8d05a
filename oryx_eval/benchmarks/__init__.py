"""One package per benchmark (reader, official extraction rule, scorer/aggregation and report in one place).

Real data live under ``--data-root`` (default ``~/.cache/oryx-eval/data``), one subfolder per benchmark
named by the task file's ``dataset.data`` key; ``--data NAME=DIR`` overrides one folder. See
``oryx_eval.benchmarks.data``.
"""
