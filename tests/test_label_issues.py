"""`netral data issues`: out-of-fold predictions and cleanlab find deliberately flipped labels."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("cleanlab")

from netral_nlp.cli import app
from netral_nlp.data import read_annotations
from netral_nlp.label_issues import find_issues, out_of_fold_probabilities

ROLES = ["Camat", "Kepala Dinas PUPR", "guru SDN", "Sekda", "lurah", "bidan puskesmas"]
ACTS = [
    "ikut kampanye akbar dan pose dua jari bersama paslon nomor {n}",
    "hadir di deklarasi dukungan caleg partai nomor {n} memakai kaos kampanye",
    "berorasi di panggung kampanye mengajak warga coblos paslon {n}",
]
CALM = [
    "Hujan deras mengguyur {place} sejak pagi, jalan utama tergenang setinggi lutut.",
    "Harga cabai rawit di pasar {place} turun menjadi dua puluh ribu per kilogram.",
    "Tim sepak bola {place} menang tiga gol tanpa balas di laga tandang kemarin sore.",
    "Festival kuliner {place} ramai pengunjung yang mencicipi sate dan soto ayam.",
]
PLACES = [
    "Bogor",
    "Garut",
    "Sleman",
    "Klaten",
    "Jember",
    "Gowa",
    "Bantul",
    "Kediri",
    "Pati",
    "Tuban",
]


def _corpus(n_per_class: int = 40) -> list[dict]:
    rng = random.Random(7)
    rows = []
    for k in range(n_per_class):
        place = rng.choice(PLACES)
        text = (
            f"{rng.choice(ROLES)} {place} {rng.choice(ACTS).format(n=rng.randint(1, 9))} "
            f"pada hari ke-{k} masa kampanye."
        )
        rows.append(
            {
                "id": f"f-{k:03d}",
                "text": text,
                "source_type": "post",
                "author_context": None,
                "partisan": True,
                "asn": True,
                "flag": True,
                "categories": ["kegiatan_kampanye"] if k % 2 else ["ajakan_dukungan"],
            }
        )
    for k in range(n_per_class):
        text = rng.choice(CALM).format(place=rng.choice(PLACES)) + f" Catatan hari ke-{k}."
        rows.append(
            {
                "id": f"n-{k:03d}",
                "text": text,
                "source_type": "news",
                "author_context": None,
                "partisan": False,
                "asn": False,
                "flag": False,
                "categories": [],
            }
        )
    return rows


# f-017 was dropped: its text is a near-twin of f-011 (same template and role), so the two
# share a fold and neither is a clear disagreement for any held-out model.
FLIPPED = ("f-003", "n-005", "n-022")


def _write_flipped(path: Path) -> Path:
    rows = _corpus()
    for row in rows:
        if row["id"] in FLIPPED:
            flag = not row["flag"]
            row.update(partisan=flag, asn=flag, flag=flag)
            row["categories"] = ["kampanye_medsos"] if flag else []
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_flipped_flags_rank_at_the_top(tmp_path: Path) -> None:
    items = read_annotations(_write_flipped(tmp_path / "corpus.jsonl"))
    probs = out_of_fold_probabilities(items, folds=4, seed=1)
    assert probs.shape == (len(items), 6) and ((probs >= 0) & (probs <= 1)).all()
    issues = find_issues(items, probs)
    flag_issues = [i for i in issues if i.label == "flag"]
    top = {i.id for i in flag_issues[: len(FLIPPED)]}
    assert top == set(FLIPPED)
    assert [i.rank for i in issues] == list(range(1, len(issues) + 1))
    assert [i.score for i in issues] == sorted(i.score for i in issues)
    first = flag_issues[0]
    assert first.given is (first.id.startswith("n-"))  # a flipped label is the given one
    assert first.text and "held-out models give P(flag)" in first.reason


def test_cli_writes_ranked_issues(tmp_path: Path) -> None:
    corpus = _write_flipped(tmp_path / "corpus.jsonl")
    out = tmp_path / "issues.jsonl"
    result = CliRunner().invoke(
        app, ["data", "issues", str(corpus), "-o", str(out), "--folds", "3"]
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert set(rows[0]) == {
        "rank",
        "id",
        "label",
        "given",
        "probability",
        "score",
        "reason",
        "text",
        "notes",
    }
    assert {r["id"] for r in rows if r["label"] == "flag"} >= set(FLIPPED)
    assert "80 items checked" in result.output


def test_too_few_items_for_the_folds_is_one_error_line(tmp_path: Path) -> None:
    rows = _corpus(3)
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    result = CliRunner().invoke(app, ["data", "issues", str(path), "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1].startswith("error: 6 items with 3 flagged")


def test_a_category_every_flagged_item_has_is_skipped_not_fatal() -> None:
    """cleanlab refuses a label column with one class; before the fix this raised."""
    import numpy as np

    from netral_nlp.data import Item

    items = [
        Item(
            f"i{k}",
            "t",
            "post",
            None,
            k < 10,
            k < 10,
            k < 10,
            ["kampanye_medsos"] if k < 10 else [],
        )
        for k in range(20)
    ]
    issues = find_issues(items, np.random.default_rng(0).random((20, 6)))
    assert {i.label for i in issues} <= {"flag"}
