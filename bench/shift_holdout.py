"""How optimistic is a model's flag F1 on the real texts that chose its long-text shift?

`netral train --threshold-data REAL` lets labelled real texts choose one number, the flag
logit shift of texts of LONG_SENTENCES or more sentences, so the model's F1 on those same
texts is in-sample for that number. This script splits the (unambiguous) items of REAL in
random halves, chooses the shift on one half exactly as training does (the long texts'
bootstrap-robust F1 threshold, moved onto the model's flag threshold) and measures the flag
F1 on the other half, both ways, over ``--splits`` random splits; beside it, the F1 of the
same halves with the model's own shift.

    python bench/shift_holdout.py --data ../shared/data/real-dev/items.jsonl [--model DIR]

The last line holds the figures as key=value pairs: the in-sample F1 on all items, the
held-out F1 and the in-sample F1 on the same halves (means), and the range of the shifts.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from netral_nlp.baseline import LONG_SENTENCES
from netral_nlp.evaluate import read_extras, robust_threshold
from netral_nlp.model import load_model

ROOT = Path(__file__).parents[1]


def _logit(p: np.ndarray | float) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="labelled real texts (JSONL)")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "netral-baseline")
    parser.add_argument("--splits", type=int, default=20, help="random splits in halves")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = load_model(args.model)
    if not hasattr(model.config, "long_shift"):
        parser.error(f"{args.model}: not a baseline model (no long-text shift)")
    items, extras = read_extras(args.data)
    items = [i for i in items if not extras[i.id].get("ambiguous")]
    docs = model.docs([i.text for i in items], [i.author_context for i in items])
    y = np.array([bool(i.flag) for i in items])
    long = np.array([len(d.analysis.sentences) >= LONG_SENTENCES for d in docs])

    shipped = model.config.long_shift
    model.config.long_shift = 0.0  # the scores before any shift
    p = model.probabilities(docs)[:, 0]
    z = _logit(p)
    cut = float(_logit(model.manifest.thresholds.get("flag", 0.5)))

    def f1(rows: np.ndarray, shift: float) -> float:
        flagged = z[rows] + shift * long[rows] >= cut
        tp = int((flagged & y[rows]).sum())
        return 2 * tp / max(int(flagged.sum() + y[rows].sum()), 1)

    rng = np.random.default_rng(args.seed)
    held, same, shifts = [], [], []
    for _ in range(args.splits):
        order = rng.permutation(len(items))
        halves = (order[: len(items) // 2], order[len(items) // 2 :])
        for choose, measure in (halves, halves[::-1]):
            rows = choose[long[choose]]
            shift = cut - float(_logit(robust_threshold(y[rows].astype(int), p[rows])))
            held.append(f1(measure, shift))
            same.append(f1(measure, shipped))
            shifts.append(shift)
    print(
        f"items={len(items)} long={int(long.sum())} splits={args.splits} "
        f"shift={shipped:.3f} f1_in_sample={f1(np.arange(len(items)), shipped):.3f} "
        f"f1_held_out={np.mean(held):.3f} f1_same_halves={np.mean(same):.3f} "
        f"shift_min={min(shifts):.2f} shift_max={max(shifts):.2f}"
    )


if __name__ == "__main__":
    main()
