"""Training of the tiny Oryx on the synthetic NIAH generator (`oryx-eval train-tiny`).

`data.py` draws question/answer examples from the NIAH generator with seeds disjoint from every shipped
task's seed; `model_setup.py` builds the tiny Oryx (the real modules, tiny widths); `loop.py` trains it
(AdamW, compression sampled per step from {1, 4, 16}) and writes the checkpoint in the official layout.
"""
