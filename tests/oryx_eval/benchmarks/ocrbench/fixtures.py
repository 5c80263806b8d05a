"""Generated OCRBench fixtures in both official layouts (benchmarks.md §4.1, §9).

Ten items, one per question type, with Pillow-drawn word images: an HME100k item whose space-tokenised
LaTeX has uppercase letters and two ground-truth variants, a list-answer item (doc VQA) and a
full-width case (the scene-text item, whose scripted answer is written in full-width characters).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

HME_GT = ["V = \\frac { 4 } { 3 } \\pi R ^ { 3 }", "V=\\frac{4}{3}\\pi R^3"]

# (dataset, question_type, question, answers (str or list as OCRBench.json has them), drawn text, size wh)
ITEMS = [
    ("IIIT5K", "Regular Text Recognition", "what is written in the image?", "CENTRE", "CENTRE", (160, 48)),
    ("IC15_1811", "Irregular Text Recognition", "what is written in the image?", "Exit", "Exit", (120, 40)),
    ("WordArt", "Artistic Text Recognition", "what is written in the image?", "sunrise", "sunrise",
     (200, 64)),
    ("IAM", "Handwriting Recognition", "what is written in the image?", "beautiful", "beautiful", (240, 56)),
    ("ORAND", "Digit String Recognition", "what is the number in the image?", "10234", "10234", (150, 44)),
    ("NonSemanticText", "Non-Semantic Text Recognition", "what is written in the image?", "xqzt", "xqzt",
     (110, 40)),
    ("STVQA", "Scene Text-centric VQA", "What does the sign say?", "STOP 100%", "STOP 100%", (320, 120)),
    ("docVQA", "Doc-oriented VQA", "What is the total amount?", ["$12.50", "12.50"], "TOTAL $12.50",
     (640, 360)),
    ("SROIE", "Key Information Extraction", "What is the company name?", "TAN WOON YANN", "TAN WOON YANN",
     (480, 96)),
    ("HME100k", "Handwritten Mathematical Expression Recognition",
     "Please write out the expression of the formula in the image using LaTeX format.", HME_GT,
     "V = 4/3 pi R^3", (360, 80)),
]  # fmt: skip
IMAGE_PATHS = [
    "IIIT5K/test/918_1.png",
    "IC15_1811/test/word_12.png",
    "WordArt/test/art_3.png",
    "IAM/test/a01-000u-00.png",
    "ORAND/test/digits_7.png",
    "NonSemanticText/test/ns_4.jpg",
    "STVQA/test/sign_1.jpg",
    "docVQA/test/doc_22.jpeg",
    "SROIE/test/receipt_9.JPEG",
    "HME100K/test/formula_5.jpg",
]


def draw_word(text: str, size_wh: tuple[int, int], seed: int) -> Image.Image:
    """Dark text on a light tinted background (Pillow's embedded font, no font file)."""
    w, h = size_wh
    img = Image.new("RGB", (w, h), (235 - 7 * seed, 232, 220 + 3 * seed))
    font = ImageFont.load_default(size=max(12, h // 2))
    ImageDraw.Draw(img).text((6, h // 5), text, fill=(20, 20, 30), font=font)
    return img


def _encode(img: Image.Image, path: str) -> bytes:
    fmt = "PNG" if path.lower().endswith(".png") else "JPEG"
    buf = io.BytesIO()
    img.save(buf, format=fmt)
    return buf.getvalue()


def write_json_layout(root: Path) -> Path:
    """``root/OCRBench.json`` + ``root/OCRBench_Images/...`` as the original repo ships them."""
    items = []
    for i, ((ds, qtype, q, ans, text, size), rel) in enumerate(zip(ITEMS, IMAGE_PATHS, strict=True)):
        path = root / "OCRBench_Images" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_encode(draw_word(text, size, i), rel))
        items.append({"dataset_name": ds, "id": i, "image_path": rel, "question": q, "answers": ans,
                      "type": qtype})  # fmt: skip
    (root / "OCRBench.json").write_text(json.dumps(items, indent=4))
    return root


def write_parquet_layout(root: Path) -> Path:
    """``root/data/test-00000-of-00001.parquet`` with the HF card's features (image struct {bytes, path})."""
    import datasets

    features = datasets.Features(
        {
            "dataset": datasets.Value("string"),
            "question": datasets.Value("string"),
            "question_type": datasets.Value("string"),
            "answer": datasets.Sequence(datasets.Value("string")),
            "image": datasets.Image(),
        }
    )
    cols: dict[str, list] = {k: [] for k in features}
    for i, (ds, qtype, q, ans, text, size) in enumerate(ITEMS):
        cols["dataset"].append(ds)
        cols["question"].append(q)
        cols["question_type"].append(qtype)
        cols["answer"].append([ans] if isinstance(ans, str) else list(ans))
        # lmms-eval's upload script re-encodes every image as JPEG
        cols["image"].append({"bytes": _encode(draw_word(text, size, i), "x.jpg"), "path": None})
    out = root / "data" / "test-00000-of-00001.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_dict(cols, features=features).to_parquet(str(out))
    return root


SCRIPTED = {
    "ocrbench/0000": "The word is centre.",  # case-insensitive substring: correct
    "ocrbench/0001": "EXIT",  # correct
    "ocrbench/0002": "sun rise",  # space breaks the substring: wrong
    "ocrbench/0003": "beautiful",  # correct
    "ocrbench/0004": "1O234",  # letter O for zero: wrong
    "ocrbench/0005": "xqzt",  # correct
    "ocrbench/0006": "ＳＴＯＰ　１００％",  # full-width: wrong officially, right under robust
    "ocrbench/0007": "12.50",  # second answer of the list: correct
    "ocrbench/0008": "tan woon yann",  # correct
    "ocrbench/0009": "V = \\frac{4}{3} \\pi R^3",  # HME: whitespace removed, case kept: correct
}
"""Scripted outputs for ``test-script``: official 7 correct (recognition 4), robust 8, lmms_legacy 6."""
