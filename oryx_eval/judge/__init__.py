"""LLM judges (MLVU's generation tasks): official prompts, official score parsing, G-avg."""

from oryx_eval.judge.mlvu import (
    NOT_CONFIGURED,
    GenerationScore,
    JudgeItem,
    JudgeRecord,
    LLMJudge,
    TaskScore,
    aggregate,
    judge_from_options,
)

__all__ = [
    "NOT_CONFIGURED",
    "GenerationScore",
    "JudgeItem",
    "JudgeRecord",
    "LLMJudge",
    "TaskScore",
    "aggregate",
    "judge_from_options",
]
