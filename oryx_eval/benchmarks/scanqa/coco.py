"""BLEU-1..4, METEOR, ROUGE-L and CIDEr through ``pycocoevalcap``, as ``ATR-DBI/ScanQA:scripts/score.py::
eval_pycoco`` computes them (PTB-tokenised answers and predictions, ``Bleu(4)``, ``Meteor()``, ``Rouge()``,
``Cider()``, each x100).

Java is started as few times as possible: every text of a run is PTB-tokenised in one JVM call (texts
are cached, so the per-type breakdowns and the report tokenise nothing new), and one METEOR JVM is kept
for the whole process (closed at exit). Results are cached per corpus, so BLEU-1..4 share one computation.

Two departures from the official calls, neither changing a score: whitespace runs are collapsed before
tokenising (the PTB tokenizer ignores them, and a stray line break would shift every later line of its
one-sentence-per-line output), and empty texts are not sent to Java (their tokens are empty; pycocoevalcap
drops trailing empty lines, which misaligns its output). Without ``java`` on PATH every metric here raises
``MetricNotComputed("not computed: java missing")``.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import shutil
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from oryx_eval.errors import MetricNotComputed, PrerequisiteError

JAVA_MISSING = "not computed: java missing"
METRICS = ("bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l", "cider")


def java_available() -> bool:
    """Whether a ``java`` executable is on PATH."""
    return shutil.which("java") is not None


def _import() -> Any:
    try:
        from pycocoevalcap.bleu.bleu import Bleu
        from pycocoevalcap.cider.cider import Cider
        from pycocoevalcap.meteor.meteor import Meteor
        from pycocoevalcap.rouge.rouge import Rouge
        from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    except ImportError as e:
        raise PrerequisiteError(
            f"ScanQA caption metrics need pycocoevalcap: pip install pycocoevalcap ({e})"
        ) from e
    return Bleu, Cider, Meteor, Rouge, PTBTokenizer


class CocoScorer:
    """Tokenisation cache, one METEOR process and per-corpus results for the whole process."""

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._results: dict[str, dict[str, float]] = {}
        self._meteor: Any = None
        self._lock = threading.Lock()
        self.jvm_starts = 0
        """Java processes started so far (tokenizer calls + METEOR), for tests and the bench."""

    def tokenize(self, texts: Iterable[str]) -> dict[str, str]:
        """PTB tokens (lowercased, punctuation removed) of every text, one JVM call for the new ones."""
        want = {t: " ".join(t.split()) for t in texts}
        new = sorted({c for c in want.values() if c and c not in self._tokens})
        if new:
            if not java_available():
                raise MetricNotComputed(JAVA_MISSING)
            ptb = _import()[4]()
            out = ptb.tokenize({i: [{"caption": c}] for i, c in enumerate(new)})
            self.jvm_starts += 1
            if sorted(out) != list(range(len(new))) or any(len(v) != 1 for v in out.values()):
                raise RuntimeError(f"PTB tokenizer returned {len(out)} lines for {len(new)} sentences")
            for i, c in enumerate(new):
                self._tokens[c] = out[i][0]
        return {t: (self._tokens[c] if c else "") for t, c in want.items()}

    def _meteor_scorer(self) -> Any:
        if self._meteor is None:
            self._meteor = _import()[2]()
            self.jvm_starts += 1
            atexit.register(self.close)
        return self._meteor

    def close(self) -> None:
        """Stop the METEOR process (a later score starts a new one)."""
        m, self._meteor = self._meteor, None
        if m is not None:
            with contextlib.suppress(Exception):
                m.meteor_p.stdin.close()
                m.meteor_p.kill()
                m.meteor_p.wait(timeout=10)

    def _meteor_score(self, gts: dict, res: dict) -> float | str:
        """METEOR, or ``not computed: METEOR failed: ...`` if its JVM dies (restarted on the next call)."""
        try:
            return float(self._meteor_scorer().compute_score(gts, res)[0])
        except (OSError, ValueError) as e:  # a dead JVM: broken pipe or an empty/garbled reply line
            self.close()
            return f"not computed: METEOR failed: {type(e).__name__}: {e}"

    def scores(self, refs: Sequence[Sequence[str]], hyps: Sequence[str]) -> dict[str, float | str]:
        """Corpus scores (x100) of ``hyps[i]`` against ``refs[i]``; keys ``METRICS`` (a METEOR failure is
        a ``not computed: ...`` string in place of its value).

        Raises:
            MetricNotComputed: no java, or an empty corpus / an item without references.
        """
        if not hyps:
            raise MetricNotComputed("not computed: no samples")
        if any(not r for r in refs):
            raise MetricNotComputed("not computed: a sample has no reference answers (test split?)")
        key = hashlib.sha1(json.dumps([list(map(list, refs)), list(hyps)]).encode()).hexdigest()
        with self._lock:
            if key in self._results:
                return self._results[key]
            if not java_available():
                raise MetricNotComputed(JAVA_MISSING)
            bleu, cider, _, rouge, _ = _import()
            tok = self.tokenize([t for r in refs for t in r] + list(hyps))
            gts = {i: [tok[t] for t in r] for i, r in enumerate(refs)}
            res = {i: [tok[h]] for i, h in enumerate(hyps)}
            b, _ = bleu(4).compute_score(gts, res, verbose=0)
            m = self._meteor_score(gts, res)
            r, _ = rouge().compute_score(gts, res)
            c, _ = cider().compute_score(gts, res)
            vals = [*b, m, float(r), float(c)]
            out = {
                k: v if isinstance(v, str) else 100.0 * float(v) for k, v in zip(METRICS, vals, strict=True)
            }
            self._results[key] = out
            return out


SCORER = CocoScorer()
"""The process-wide scorer (one METEOR JVM per process)."""
