"""MLVU's official judge-reply parsing and averaging, quirks included (never its crashes).

``extract_scores`` is ``generation_evaluation/calculate.py::extract_scores`` (and the identical one in
``calculate_sum.py``): for each key, in order, find its first occurrence; skip the key if absent;
the number is ``text[find(":", at) + 2 : find(",", that)]`` parsed with ``float``. Quirks kept:
- a missing first key shifts the second score into the first slot (the list just gets shorter);
- the number must follow ``": "`` (one char after the colon) and end before the next comma anywhere
  later in the text (``find`` returning -1 slices to the last character).
Where the official ``float(...)`` would raise (and stop the whole script) we record the reply as
unparsed instead: ``official_crash=True``, contribution 0 to both sums, counted in the denominator.

The official averages (``calculate.py`` main loop) divide each sum by the number of judged files;
a reply with fewer than two scores adds ``scores[0]`` (if any) to the first sum and nothing to the
second (``accu += scores[0]`` runs before ``rele += scores[1]`` raises inside the bare ``try``).
"""

from __future__ import annotations


def extract_scores(text: str, keys: tuple[str, str]) -> tuple[list[float], bool]:
    """``(scores, official_crash)``: the official extraction; ``official_crash`` where it would raise."""
    scores: list[float] = []
    for key in keys:
        start = text.find(key)
        if start == -1:
            continue
        num_start = text.find(":", start) + 2
        num_end = text.find(",", num_start)
        try:
            scores.append(float(text[num_start:num_end]))
        except ValueError:
            return scores, True
    return scores, False


def contribution(scores: list[float], official_crash: bool) -> tuple[float, float]:
    """What one reply adds to the (first, second) official sums."""
    if official_crash:
        return 0.0, 0.0
    first = scores[0] if len(scores) >= 1 else 0.0
    second = scores[1] if len(scores) >= 2 else 0.0
    return first, second
