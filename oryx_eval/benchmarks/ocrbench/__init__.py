"""OCRBench (v1, 1,000 items, 10 question types): reader ``ocrbench``, scorer/metrics ``ocrbench*``,
report ``ocrbench_table``. Rules in ``rules.py`` (official MultimodalOCR, robust = + lmms-eval #1415,
lmms_legacy = the Oryx fork's lmms-eval)."""
