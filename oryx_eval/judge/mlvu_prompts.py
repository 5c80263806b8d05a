"""MLVU's official judge prompts for its generation tasks, character for character.

Sources (JUNJIE99/MLVU, commit ae66ef9 / 41add89):
- sub-scene captioning: ``generation_evaluation/evaluate_ssc.py::annotate`` (system + user messages,
  ``question.replace('\\n', '')``, ``scoring_points`` of the question, ``temperature=0``, ``gpt-4-turbo``);
- video summary: ``evaluation/generation_evaluation/evaluate_summary.py::annotate`` (standard answer +
  prediction; the question is not shown to the judge).
Both prompts are indented triple-quoted strings in the official scripts: each line carries 28 spaces of
indentation, the message starts with a newline and ends with a newline and 24 spaces. Kept as sent.
"""

from __future__ import annotations

import hashlib
from typing import Literal

JudgeTask = Literal["ssc", "summary"]

_IN = " " * 28
_END = "\n" + " " * 24

_SSC_SYSTEM = [
    "##TASK DESCRIPTION: ",
    "You are required to evaluate a respondent's answer based on a provided question, some scoring points, "
    "and the respondent's answer. You should provide two scores. The first is the accuracy score, which "
    "should range from 1 to 5. The second is the relevance score, which should also range from 1 to 5. "
    "Below are the criteria for each scoring category.",
    "##ACCURACY Scoring Criteria: ",
    "Evaluate the respondent's answer against specific scoring points as follows:",
    "Score 1: The response completely misses the scoring point.",
    "Score 3: The response mentions content related to the scoring point but is not entirely correct.",
    "Score 5: The response accurately addresses the scoring point.",
    "Calculate the average score across all scoring points to determine the final accuracy score.",
    "##RELEVANCE Scoring Criteria:",
    "Assess how the respondent's answer relates to the original question:",
    "Score 1: The response is completely off-topic from the question.",
    "Score 2: The response is partially related to the question but contains a significant amount of "
    "irrelevant content.",
    "Score 3: The response primarily addresses the question, but the respondent seems uncertain about "
    "their own answer.",
    "Score 4: The response mostly addresses the question and the respondent appears confident in their "
    "answer.",
    "Score 5: The response is fully focused on addressing the question with no irrelevant content and "
    "demonstrates complete certainty.",
    "----",
    "##INSTRUCTION:",
    "1. Evaluate Accuracy: First, assess and score each scoring point based on the respondent's answer. "
    "Calculate the average of these scores to establish the final accuracy score. Provide a detailed "
    "rationale before assigning your score.",
    "2. Evaluate RELEVANCE: Assess the relevance of the respondent\u2019s answer to the question. Note that "
    "when evaluating relevance, the correctness of the answer is not considered; focus solely on how "
    "relevant the answer is to the question. Provide a comprehensive rationale before assigning your score.",
    "3. Output Scores in JSON Format: Present the scores in JSON format as follows:",
    "{'score_accuracy': score_acc, 'score_relevance': score_rele, 'total_score': score_acc + score_rele}",
]

_SUMMARY_SYSTEM = [
    "##TASK DESCRIPTION: ",
    "You are required to evaluate the performance of the respondent in the video summarization task based "
    "on the standard answer and the respondent's answer. You should provide two scores. The first is the "
    "COMPLETENESS score, which should range from 1 to 5. The second is the RELIABILITY score, which should "
    "also range from 1 to 5. Below are the criteria for each scoring category:",
    "##COMPLETENESS Scoring Criteria:",
    "The completeness score focuses on whether the summary covers all key points and main information from "
    "the video. ",
    "Score 1: The summary hardly covers any of the main content or key points of the video.",
    "Score 2: The summary covers some of the main content and key points but misses many.",
    "Score 3: The summary covers most of the main content and key points.",
    "Score 4: The summary is very comprehensive, covering most to nearly all of the main content and key "
    "points.",
    "Score 5: The summary completely covers all the main content and key points of the video.",
    "##RELIABILITY Scoring Criteria:",
    "The reliability score evaluates the correctness and clarity of the video summary. It checks for "
    "factual errors, misleading statements, and contradictions with the video content. If the respondent's "
    "answer includes details that are not present in the standard answer, as long as these details do not "
    "conflict with the correct answer and are reasonable, points should not be deducted.",
    "Score 1: Contains multiple factual errors and contradictions; presentation is confusing.",
    "Score 2: Includes several errors and some contradictions; needs clearer presentation.",
    "Score 3: Generally accurate with minor errors; minimal contradictions; reasonably clear presentation.",
    "Score 4: Very accurate with negligible inaccuracies; no contradictions; clear and fluent presentation.",
    "Score 5: Completely accurate with no errors or contradictions; presentation is clear and easy to "
    "understand.",
    "----",
    "##INSTRUCTION:",
    "1. Evaluate COMPLETENESS: First, analyze the respondent's answer according to the scoring criteria, "
    "then provide an integer score between 1 and 5 based on sufficient evidence. ",
    "2. Evaluate RELIABILITY: First, analyze the respondent's answer according to the scoring criteria, "
    "then provide an integer score between 1 and 5 based on sufficient evidence. ",
    "3. Output Scores in JSON Format: Present the scores in JSON format as follows:",
    "{'score_completeness': score_comp, 'score_reliability': score_reli, 'total_score': score_comp + "
    "score_reli}",
]

_USER_HEAD = (
    "Please score the respondent's answer according to the steps in the Instructions. You must end with a "
    "JSON dict to store the scores."
)


def _block(lines: list[str]) -> str:
    return "\n" + "".join(f"{_IN}{line}\n" for line in lines)[:-1] + _END


SYSTEM_PROMPTS: dict[str, str] = {"ssc": _block(_SSC_SYSTEM), "summary": _block(_SUMMARY_SYSTEM)}

SCORE_KEYS: dict[str, tuple[str, str]] = {
    "ssc": ("score_accuracy", "score_relevance"),
    "summary": ("score_completeness", "score_reliability"),
}
"""The two keys each official ``calculate*.py`` reads, in order (``calculate.py``, ``calculate_sum.py``)."""

JUDGE_MODEL = "gpt-4-turbo"
JUDGE_TEMPERATURE = 0.0


def user_message(task: JudgeTask, question: str, reference: str, prediction: str) -> str:
    """The official user message; ``reference`` = scoring points (ssc) or the standard answer (summary)."""
    if task == "ssc":
        q = question.replace("\n", "")
        lines = [
            _USER_HEAD,
            f"Question: {q}",
            f"Scoring Points: {reference}",
            f"Respondent's Answer: {prediction}",
        ]
    else:
        lines = [_USER_HEAD, f"Standard Answer: {reference}", f"Respondent's Answer: {prediction}"]
    return _block(lines)


def prompt_digest() -> str:
    """sha256 (16 hex) of both system prompts and the user templates: recorded with every judgement."""
    probe = "".join(SYSTEM_PROMPTS[t] + user_message(t, "{q}", "{ref}", "{pred}") for t in ("ssc", "summary"))
    return hashlib.sha256(probe.encode()).hexdigest()[:16]
