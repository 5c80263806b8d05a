"""VideoMME official rule, verdicts derived by reading ``thanku-all/parse_answer:eval_your_results.py``
``extract_characters_regex`` (copied in ``Oryx-mllm/Oryx:lmms-eval/lmms_eval/tasks/videomme_fix/utils.py``):
strip, remove the prefixes (two pairs concatenated by missing commas), "" if > 10 words and no A-D, else
the first A/B/C/D anywhere. "" (not answered) is ``None`` here."""

from __future__ import annotations

import pytest

from oryx_eval.benchmarks.videomme.rules import official_videomme, videomme_official

LONG_NO_LETTER = "the video shows a man walking his dog in the park at sunset"  # 13 words
CASES = [
    ("A", "A"), ("B.", "B"), ("(C)", "C"), ("D) date", "D"), ("The best answer is A", "A"),
    ("The best answer is: B", "B"), ("The correct answer is C.", "C"), ("The answer is D", "D"),
    ("The answer: A", "A"),
    ("Answer: B", "A"),  # "Answer:" is not in the official list: the A of "Answer" is first
    ("Based on the video, the answer is C.", "B"),  # the B of "Based"
    ("Best answer: C", "B"),  # "Best answer:" alone is never stripped (missing comma)
    ("Best option: D", "B"),
    ("The best option is C", "C"),  # prefix not stripped, but no capital A-D before C
    ("The correct option is D", "D"), ("I think it is B", "B"), ("Apples are shown", "A"), ("Candles.", "C"),
    ("none of these", ""), ("", ""), (LONG_NO_LETTER, ""), (LONG_NO_LETTER + " Dog", "D"), ("E", ""),
    ("a", ""), ("The answer is E", ""), ("C and D", "C"), ("Option B", "B"), ("option b", ""),
    ("The answer is (B) because", "B"), ("**B**", "B"), ("  D  ", "D"), ("The best answer isA", "A"),
    ("BC", "B"), ("The answer is A, not B", "A"), ("Correct: C", "C"), ("Definitely A", "D"),
    ("After watching, B", "A"), ("Choice: D", "C"), ("The correct answer is Definitely C", "D"),
    ("The best option isThe correct option is B", "B"),  # the concatenated prefix is stripped
    ("Best answer:Best option: C", "C"), ("The Answer is B", "A"), ("the answer is b", ""), ("1", ""),
    ("D.", "D"), ("(A) Apples.", "A"), ("A. Apples.", "A"), ("I'm not sure.", ""),
    ("I cannot determine the answer from the given video frames alone, sorry about that", ""),
    ("The answer is: \nC", "C"), ("\n\nB\n", "B"), ("Answer is B", "A"), ("My answer: D", "D"),
    ("This is B", "B"), ("Both A and B", "B"), ("CD", "C"), ("The answer is D. Because the date", "D"),
    ("Seems like A", "A"), ("Picture C", "C"), ("The answerB", "B"), ("ABCD", "A"),
    ("The best answer is The answer is C", "C"),
    ("one two three four five six seven eight nine ten eleven A", "A"),  # > 10 words but has a letter
    ("one two three four five six seven eight nine ten", ""),  # exactly 10 words: not > 10, no letter
]  # fmt: skip


@pytest.mark.parametrize(("response", "verdict"), CASES)
def test_official_verdict(response: str, verdict: str) -> None:
    assert official_videomme(response) == verdict
    assert videomme_official(response, None) == (verdict or None)


def test_case_count() -> None:
    assert len(CASES) >= 60
