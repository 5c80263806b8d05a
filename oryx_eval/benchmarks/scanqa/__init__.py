"""ScanQA (3D QA on ScanNet scenes, seen as multi-view posed frames): reader ``scanqa``, EM/refined EM
(LEO cleaning) and pycocoevalcap metrics ``scanqa_*``, reports ``scanqa_table`` and ``scanqa_submission``."""
