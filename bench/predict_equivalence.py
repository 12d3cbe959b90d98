"""Do two checkouts score alike? A check for work on the prediction path's speed.

``dump`` scores every corpus item (data/annotations, all splits), 3,000 synthetic posts of
bench/score_throughput.py and a few odd inputs with a model (default: the shipped one), in
batches of 2,048 as `netral score` does, and writes every field of every prediction
(score, flag, categories, category scores, evidence, evidence spans) to a JSON file.
``compare`` reads two such files: scores and category scores must agree to 1e-9 and
everything else exactly. Run ``dump`` once with each checkout's ``src`` on PYTHONPATH:

    PYTHONPATH=../main/src python bench/predict_equivalence.py dump /tmp/before.json
    PYTHONPATH=src python bench/predict_equivalence.py dump /tmp/after.json
    python bench/predict_equivalence.py compare /tmp/before.json /tmp/after.json

The last line holds the figures as key=value pairs; ``compare`` exits 1 when rows differ.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from score_throughput import AUTHORS, post

ROOT = Path(__file__).parents[1]
BATCH = 2048
TOLERANCE = 1e-9
ODD = [
    "",
    "   ",
    "!!!",
    "İstanbul İİİ camat kampanye",
    "Camat ikut kampanye " * 500,
    "#2024GantiPresiden @budi https://x.co/a 1️⃣ ✌️ salam 2 jari 🇮🇩 anak2 bangeeet",
    'Kab. Maros. Hj. Ratna ikut deklarasi paslon 02!!! \n\n Lurah dukung "caleg".',
]


def inputs() -> list[tuple[str, str | None]]:
    from netral_nlp.data import read_annotations

    rows = [(i.text, i.author_context) for i in read_annotations(ROOT / "data" / "annotations")]
    rng = random.Random(7)
    for _ in range(3000):
        partisan, asn = rng.random() < 0.15, rng.random() < 0.3
        rows.append((post(rng, partisan, asn), rng.choice(AUTHORS)))
    return rows + [(t, None) for t in ODD] + [(t, "Camat Sukamaju | ASN") for t in ODD]


def dump(out: Path, model: Path | None) -> None:
    from netral_nlp.model import default_model_dir, load_model

    clf = load_model(model or default_model_dir())
    rows = inputs()
    started = time.perf_counter()
    preds = []
    for i in range(0, len(rows), BATCH):
        chunk = rows[i : i + BATCH]
        preds += clf.predict([t for t, _ in chunk], [a for _, a in chunk])
    seconds = time.perf_counter() - started
    records = [
        {
            "score": p.score,
            "flag": p.flag,
            "categories": p.categories,
            "category_scores": p.category_scores,
            "evidence": p.evidence,
            "spans": [s.as_dict() for s in p.spans],
        }
        for p in preds
    ]
    out.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    print(f"rows={len(rows)} predict_us_per_row={seconds / len(rows) * 1e6:.0f} out={out}")


def compare(before: Path, after: Path) -> int:
    a = json.loads(before.read_text(encoding="utf-8"))
    b = json.loads(after.read_text(encoding="utf-8"))
    if len(a) != len(b):
        print(f"rows={len(a)} other_rows={len(b)} differ=all")
        return 1
    differ, worst = 0, 0.0
    for k, (x, y) in enumerate(zip(a, b, strict=True)):
        gap = max(
            abs(x["score"] - y["score"]),
            *(abs(x["category_scores"][c] - y["category_scores"][c]) for c in x["category_scores"]),
        )
        worst = max(worst, gap)
        fields = [f for f in ("flag", "categories", "evidence", "spans") if x[f] != y[f]]
        if gap > TOLERANCE or fields:
            differ += 1
            if differ <= 5:
                print(f"row {k}: score gap {gap:.2e}; differs in {fields or 'scores'}")
    print(f"rows={len(a)} differ={differ} max_score_gap={worst:.2e}")
    return 1 if differ else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump", help="score the inputs and write the predictions")
    d.add_argument("out", type=Path)
    d.add_argument("--model", type=Path, help="model directory (default: the shipped one)")
    c = sub.add_parser("compare", help="compare two dumps")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.model)
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
