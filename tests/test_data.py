"""Reading, validation rules, splits, hashing, agreement and the `netral data` commands."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netral_nlp.agreement import cohen_kappa, compare, sample_ids
from netral_nlp.data import (
    SPLITS,
    AnnotationError,
    Item,
    data_hash,
    load_dataset,
    read_annotations,
    validate,
)
from netral_nlp.data_cli import data_app
from netral_nlp.labels import CATEGORY_NAMES
from netral_nlp.splits import assign_splits, write_splits

ANNOTATIONS = Path(__file__).resolve().parents[1] / "data" / "annotations"


# --------------------------------------------------------------------------- reading


def test_read_annotations_file_and_directory(make_item, write_jsonl, tmp_path):
    a = make_item(platform="x", tags=["gesture"], notes="n")
    b, c = make_item(flag=True), make_item()
    write_jsonl("corpus/b.jsonl", [c])
    write_jsonl("corpus/a.jsonl", [a, b])
    write_jsonl("corpus/nested/ignored.jsonl", [make_item()])

    items = read_annotations(tmp_path / "corpus")
    assert [it.id for it in items] == [a["id"], b["id"], c["id"]]  # sorted files, line order
    assert items[0].platform == "x" and items[0].tags == ["gesture"] and items[0].split is None
    assert items[1].flag and items[1].categories == ["kampanye_medsos"]
    assert len(read_annotations(tmp_path / "corpus" / "b.jsonl")) == 1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ('{"id": ', "a.jsonl:2: -: broken JSON"),
        ("MISSING_ASN", "a.jsonl:2: asn: missing field"),
        ("DUPLICATE_ID", "a.jsonl:2: id: duplicate id 't-0001' (first at"),
    ],
)
def test_read_annotations_refuses_invalid_lines(make_item, write_jsonl, row, expected):
    first = make_item()
    if row == "MISSING_ASN":
        row = {k: v for k, v in make_item().items() if k != "asn"}
    elif row == "DUPLICATE_ID":
        row = make_item(id=first["id"])
    path = write_jsonl("a.jsonl", [first, row])
    with pytest.raises(AnnotationError, match=expected.replace("(", r"\(")):
        read_annotations(path)


def test_read_annotations_bad_paths(tmp_path):
    with pytest.raises(AnnotationError, match="no such file or directory"):
        read_annotations(tmp_path / "missing")
    with pytest.raises(AnnotationError, match=r"no \*\.jsonl files"):
        read_annotations(tmp_path)


# --------------------------------------------------------------------------- validation rules


def test_clean_file_passes(make_item, write_jsonl):
    rows = [make_item(), make_item(flag=True, categories=list(CATEGORY_NAMES[:2])), make_item()]
    report = validate(write_jsonl("a.jsonl", rows))
    assert report.problems == []
    assert report.ok and report.n_items == 3 and report.n_files == 1


def _one_problem(path: Path, rule: str):
    report = validate(path)
    found = [p for p in report.problems if p.rule == rule]
    assert len(found) == 1, report.problems
    return found[0]


# Each case: the rule, the broken line 2 (a function of a valid item), the field named.
LINE_CASES = {
    "utf8": (lambda it: b'{"id": "\xff\xfe"}', "-"),
    "json": (lambda it: '{"id": "x", "text": ', "-"),
    "not_object": (lambda it: "[1, 2, 3]", "-"),
    "field": (lambda it: {k: v for k, v in it.items() if k != "source_type"}, "source_type"),
    "source_type": (lambda it: {**it, "source_type": "tweet"}, "source_type"),
    "empty_text": (lambda it: {**it, "text": " \n\t "}, "text"),
    "flag_consistency": (
        lambda it: {**it, "flag": True, "partisan": False, "categories": ["kampanye_medsos"]},
        "flag",
    ),
    "categories_consistency": (lambda it: {**it, "categories": ["ajakan_dukungan"]}, "categories"),
    "unknown_category": (
        lambda it: {**it, "flag": True, "partisan": True, "asn": True, "categories": ["kampanye"]},
        "categories",
    ),
    "repeated_category": (
        lambda it: {
            **it,
            "flag": True,
            "partisan": True,
            "asn": True,
            "categories": ["kampanye_medsos"] * 2,
        },
        "categories",
    ),
    "split_value": (lambda it: {**it, "split": "validation"}, "split"),
}


@pytest.mark.parametrize("rule", sorted(LINE_CASES))
def test_each_line_rule_fires_at_its_line_and_field(rule, make_item, write_jsonl):
    broken, field = LINE_CASES[rule]
    path = write_jsonl("a.jsonl", [make_item(), broken(make_item()), make_item()])
    problem = _one_problem(path, rule)
    assert (problem.file, problem.line, problem.field, problem.severity) == (
        str(path),
        2,
        field,
        "error",
    )
    assert str(problem).startswith(f"{path}:2: {field}: ")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"partisan": "yes"}, "partisan: expected boolean, got string"),
        ({"author_context": 5}, "author_context: expected string or null, got number"),
        ({"categories": "kampanye_medsos"}, "categories: expected list, got string"),
        ({"tags": [1]}, "tags: expected a list of strings"),
    ],
)
def test_wrong_types_are_named(value, message, make_item, write_jsonl):
    path = write_jsonl("a.jsonl", [make_item(), {**make_item(), **value}])
    assert f"{path}:2: {message}" in [str(p) for p in validate(path).errors]


def test_flag_without_categories(make_item, write_jsonl):
    path = write_jsonl("a.jsonl", [make_item(flag=True, categories=[])])
    problem = _one_problem(path, "categories_consistency")
    assert (problem.line, problem.field) == (1, "categories")
    assert "flag is true but categories is empty" in problem.message


def test_partisan_and_asn_without_flag_needs_notes(make_item, write_jsonl):
    row = make_item(partisan=True, asn=True, flag=False)
    path = write_jsonl(
        "a.jsonl",
        [
            row,
            {
                **make_item(),
                **{k: row[k] for k in ("partisan", "asn", "flag")},
                "notes": "kades campaigns; the camat only attends",
            },
        ],
    )
    problems = [p for p in validate(path).problems if p.rule == "flag_consistency"]
    assert [(p.line, p.field, p.severity) for p in problems] == [
        (1, "flag", "error"),
        (2, "flag", "warning"),
    ]


def test_duplicate_id_names_both_lines(make_item, write_jsonl):
    first = make_item()
    path = write_jsonl("a.jsonl", [first, make_item(), make_item(id=first["id"])])
    problem = _one_problem(path, "duplicate_id")
    assert (problem.line, problem.field) == (3, "id")
    assert f"{path}:1 and {path}:3" in problem.message


def test_exact_duplicate_text_after_folding(make_item, write_jsonl):
    first = make_item()
    copy = make_item(text="  " + first["text"].upper().replace(" ", " \n "))
    path = write_jsonl("a.jsonl", [first, make_item(), copy])
    problem = _one_problem(path, "duplicate_text")
    assert (problem.line, problem.field, problem.severity) == (3, "text", "error")
    assert first["id"] in problem.message and copy["id"] in problem.message
    assert not [p for p in validate(path).problems if p.rule == "near_duplicate"]


def test_near_duplicate_is_a_warning_with_both_ids_and_similarity(make_item, write_jsonl):
    first = make_item()
    near = make_item(text=first["text"] + " ok")
    path = write_jsonl("a.jsonl", [first, near, make_item()])
    problem = _one_problem(path, "near_duplicate")
    assert (problem.line, problem.field, problem.severity) == (2, "text", "warning")
    assert first["id"] in problem.message and near["id"] in problem.message
    assert "Jaccard 0.9" in problem.message
    assert validate(path).ok
    assert validate(path, near_dup_threshold=0.99).problems == []


def test_near_duplicates_across_splits_leak(make_item, write_jsonl):
    first = make_item(split="train")
    leak = make_item(text=first["text"] + " ok", split="test")
    same = make_item(text=first["text"] + " ya", split="train")
    path = write_jsonl("a.jsonl", [first, leak, make_item(split="dev")])
    problem = _one_problem(path, "split_leakage")
    assert (problem.line, problem.field, problem.severity) == (2, "split", "error")
    assert "train vs test" in problem.message
    path = write_jsonl("b.jsonl", [first, same])
    assert _one_problem(path, "near_duplicate").severity == "warning"


def test_directory_problems_name_their_file(make_item, write_jsonl, tmp_path):
    first = make_item()
    write_jsonl("d/a.jsonl", [first])
    second = write_jsonl("d/b.jsonl", [make_item(), make_item(id=first["id"])])
    problem = _one_problem(tmp_path / "d", "duplicate_id")
    assert (problem.file, problem.line) == (str(second), 2)
    assert f"{tmp_path / 'd' / 'a.jsonl'}:1" in problem.message


def test_validate_bad_path_raises(tmp_path):
    with pytest.raises(AnnotationError):
        validate(tmp_path / "missing.jsonl")


@pytest.mark.skipif(
    not list(ANNOTATIONS.glob("items-*.jsonl")),
    reason="no annotated corpus in data/annotations yet",
)
def test_real_corpus_has_no_errors():
    report = validate(ANNOTATIONS)
    assert report.n_items > 0
    assert report.errors == [], "\n".join(map(str, report.errors[:20]))


# --------------------------------------------------------------------------- splits


def _corpus(make_item, n: int = 300, seed: int = 0) -> list[dict]:
    """Items with varied labels; every 10th is a near-duplicate of the one before."""
    rng = random.Random(seed)
    rows = []
    for k in range(n):
        flag = rng.random() < 0.4
        cats = rng.sample(CATEGORY_NAMES, rng.choice([1, 1, 2, 3])) if flag else []
        row = make_item(flag=flag, categories=cats)
        if k % 10 == 9:
            row["text"] = rows[-1]["text"] + " lagi"
        rows.append(row)
    return rows


def _items(rows: list[dict]) -> list[Item]:
    return [Item(**row) for row in rows]


def test_assign_splits_deterministic_stratified_and_ratios(make_item):
    rows = _corpus(make_item)
    items = _items(rows)
    mapping = assign_splits(items, seed=13)
    assert mapping == assign_splits(list(reversed(items)), seed=13)
    assert set(mapping) == {r["id"] for r in rows} and set(mapping.values()) == set(SPLITS)
    assert mapping != assign_splits(items, seed=14)

    counts = Counter(mapping.values())
    for split, ratio in zip(SPLITS, (0.70, 0.15, 0.15), strict=True):
        assert abs(counts[split] / len(rows) - ratio) < 0.03
    overall = sum(r["flag"] for r in rows) / len(rows)
    for split in SPLITS:
        in_split = [r for r in rows if mapping[r["id"]] == split]
        assert abs(sum(r["flag"] for r in in_split) / len(in_split) - overall) < 0.05
    for cat in CATEGORY_NAMES:
        with_cat = [r for r in rows if cat in r["categories"]]
        share_train = sum(mapping[r["id"]] == "train" for r in with_cat) / len(with_cat)
        assert abs(share_train - 0.70) < 0.1


def test_near_duplicate_groups_stay_in_one_split(make_item):
    rows = _corpus(make_item)
    mapping = assign_splits(_items(rows))
    for k in range(9, len(rows), 10):
        assert mapping[rows[k]["id"]] == mapping[rows[k - 1]["id"]]


def test_existing_splits_are_kept_unless_reassigned(make_item):
    rows = _corpus(make_item, n=200)
    old = assign_splits(_items(rows), seed=13)
    for row in rows:
        row["split"] = old[row["id"]]
    new_rows = _corpus(make_item, n=60, seed=1)
    new_rows[0]["text"] = rows[5]["text"] + " juga"  # near-duplicate of an old item
    mapping = assign_splits(_items(rows + new_rows), seed=99)
    assert all(mapping[r["id"]] == old[r["id"]] for r in rows)
    assert mapping[new_rows[0]["id"]] == old[rows[5]["id"]]
    reassigned = assign_splits(_items(rows + new_rows), seed=99, reassign=True)
    assert any(reassigned[r["id"]] != old[r["id"]] for r in rows)


def test_assign_splits_rejects_bad_ratios(make_item):
    with pytest.raises(ValueError, match="ratios"):
        assign_splits(_items([make_item()]), ratios=(0.5, 0.3, 0.3))


def test_write_splits_preserves_everything_else(make_item, write_jsonl):
    rows = [make_item(platform="x", notes="é ✌️"), make_item(split="dev"), make_item()]
    path = write_jsonl("a.jsonl", [rows[0], rows[1], "", rows[2]])
    before = path.read_bytes().split(b"\n")
    mapping = {rows[0]["id"]: "train", rows[1]["id"]: "dev", rows[2]["id"]: "test"}

    assert write_splits(path, mapping) == 2
    after = path.read_bytes().split(b"\n")
    assert after[1:3] == before[1:3]  # unchanged split and blank line stay byte for byte
    first = json.loads(after[0])
    assert list(first) == [*rows[0], "split"] and first == {**rows[0], "split": "train"}
    assert json.loads(after[3]) == {**rows[2], "split": "test"}
    assert write_splits(path, mapping) == 0
    assert [it.split for it in read_annotations(path)] == ["train", "dev", "test"]


def test_write_splits_rejects_unknown_split(make_item, write_jsonl):
    row = make_item()
    with pytest.raises(ValueError, match="unknown split"):
        write_splits(write_jsonl("a.jsonl", [row]), {row["id"]: "valid"})


# --------------------------------------------------------------------------- consumers


def test_data_hash_is_order_independent_and_label_sensitive(make_item):
    items = _items([make_item(), make_item(flag=True)])
    assert data_hash(items) == data_hash(list(reversed(items)))
    assert len(data_hash(items)) == 64
    items[0].categories = ["ajakan_dukungan"]
    assert data_hash(items) != data_hash(_items([make_item(), make_item(flag=True)]))


def test_load_dataset_groups_by_split(make_item, write_jsonl):
    rows = [
        make_item(split="train"),
        make_item(split="train", flag=True),
        make_item(split="test"),
        make_item(),
    ]
    dd = load_dataset(write_jsonl("a.jsonl", rows))
    assert list(dd) == ["train", "test", "unsplit"]
    assert dd["train"].num_rows == 2 and dd["train"][1]["categories"] == ["kampanye_medsos"]
    assert dd["unsplit"][0]["author_context"] is None


# --------------------------------------------------------------------------- agreement


def _labels(flags, cats=None):
    cats = cats or [[] for _ in flags]
    return [
        {"id": f"i{k}", "flag": f, "categories": c}
        for k, (f, c) in enumerate(zip(flags, cats, strict=True))
    ]


def test_kappa_by_hand():
    a = [1, 1, 0, 0, 1, 0, 1, 0, 1, 1]
    b = [1, 0, 0, 0, 1, 1, 1, 0, 1, 1]
    # p_o = 8/10; both raters say yes 6/10 times: p_e = .6*.6 + .4*.4 = .52
    assert cohen_kappa(a, b) == pytest.approx((0.8 - 0.52) / (1 - 0.52))
    assert cohen_kappa(a, a) == 1.0
    assert math.isnan(cohen_kappa([0, 0], [0, 0]))


def test_compare_reports_per_label_and_disagreements():
    cats = [["kampanye_medsos"], ["kampanye_medsos", "ajakan_dukungan"], [], []]
    first = _labels([True, True, False, False], cats)
    second = _labels(
        [True, True, False, True],
        [["kampanye_medsos"], ["kampanye_medsos"], [], ["ajakan_dukungan"]],
    )
    second.append({"id": "extra", "flag": False, "categories": []})
    report = compare(first, second)
    rows = {r.label: r for r in report.labels}
    assert report.n_common == 4 and report.only_second == ["extra"]
    assert list(rows) == ["flag", *CATEGORY_NAMES]
    assert rows["flag"].agreement == 0.75 and (
        rows["flag"].positives_first,
        rows["flag"].positives_second,
    ) == (2, 3)
    # flag: p_o = .75, p_e = .5*.75 + .5*.25 = .5, kappa = .5
    assert rows["flag"].kappa == pytest.approx(0.5)
    assert rows["kampanye_medsos"].kappa == 1.0
    assert [d.id for d in report.disagreements] == ["i1", "i3"]
    assert report.disagreements[0].first == {
        "flag": True,
        "categories": ["ajakan_dukungan", "kampanye_medsos"],
    }


def test_compare_rejects_bad_rows():
    with pytest.raises(ValueError, match="duplicate id"):
        compare(_labels([True]) * 2, _labels([True]))
    with pytest.raises(ValueError, match="needs boolean 'flag'"):
        compare([{"id": "a", "flag": 1, "categories": []}], _labels([True]))


def test_sample_ids_is_seeded():
    ids = [f"i{k}" for k in range(100)]
    sample = sample_ids(ids, 10, seed=1)
    assert len(set(sample)) == 10 and sample == sample_ids(reversed(ids), 10, seed=1)
    assert sample != sample_ids(ids, 10, seed=2)
    assert sample_ids(ids[:3], 10) == ids[:3]


# --------------------------------------------------------------------------- CLI

runner = CliRunner()


def test_cli_validate_exit_codes(make_item, write_jsonl, tmp_path):
    clean = write_jsonl("clean.jsonl", [make_item(), make_item()])
    result = runner.invoke(data_app, ["validate", str(clean)])
    assert result.exit_code == 0 and "2 items in 1 files: 0 errors, 0 warnings" in result.output

    broken = write_jsonl("broken.jsonl", [make_item(), make_item(source_type="tweet")])
    result = runner.invoke(data_app, ["validate", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:2: source_type: unknown source_type 'tweet'" in result.output

    for path in (tmp_path / "missing", tmp_path / "empty"):
        (tmp_path / "empty").mkdir(exist_ok=True)
        result = runner.invoke(data_app, ["validate", str(path)])
        assert result.exit_code == 2 and result.output.startswith("error: ")
        assert len(result.output.strip().splitlines()) == 1 and isinstance(
            result.exception, SystemExit
        )


def test_cli_split_card_and_agreement(make_item, write_jsonl, tmp_path):
    corpus = write_jsonl("c/a.jsonl", _corpus(make_item, n=40))
    result = runner.invoke(data_app, ["split", str(corpus.parent), "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "40 of 40 items got a new split" in result.output and "| total |" in result.output
    assert all(it.split in SPLITS for it in read_annotations(corpus))

    readme = tmp_path / "README.md"
    card = ["card", str(corpus), "--readme", str(readme)]
    assert runner.invoke(data_app, [*card, "--check"]).exit_code == 1
    assert runner.invoke(data_app, card).exit_code == 0
    assert runner.invoke(data_app, [*card, "--check"]).exit_code == 0

    other = write_jsonl(
        "other.jsonl",
        [{**json.loads(line), "flag": False} for line in corpus.read_text().splitlines()],
    )
    result = runner.invoke(data_app, ["agreement", str(corpus), str(other)])
    assert result.exit_code == 0, result.output
    assert "40 items in both" in result.output and "kampanye_medsos" in result.output

    result = runner.invoke(data_app, ["split", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "no such file or directory" in result.output


def test_apply_adjudication_sets_final_labels_idempotently(make_item, write_jsonl, tmp_path):
    from netral_nlp.data import read_annotations
    from netral_nlp.splits import apply_adjudication

    a, b = make_item(), make_item(flag=True)
    corpus = write_jsonl("corpus/items.jsonl", [a, b])
    final = {
        "partisan": True,
        "asn": True,
        "flag": True,
        "categories": ["keterlibatan_parpol", "kampanye_medsos"],
    }
    record = write_jsonl(
        "adj.jsonl", [{"id": a["id"], "first": None, "second": None, "final": final}]
    )
    assert apply_adjudication(corpus.parent, record) == 1
    assert apply_adjudication(corpus.parent, record) == 0
    items = {i.id: i for i in read_annotations(corpus.parent)}
    assert items[a["id"]].flag and items[a["id"]].categories == [
        "kampanye_medsos",
        "keterlibatan_parpol",
    ]
    assert items[b["id"]].categories == ["kampanye_medsos"]


def test_apply_adjudication_rejects_incomplete_records(make_item, write_jsonl):
    import pytest

    from netral_nlp.data import AnnotationError
    from netral_nlp.splits import apply_adjudication

    corpus = write_jsonl("c/items.jsonl", [make_item()])
    record = write_jsonl("adj.jsonl", [{"id": "t-0001", "final": {"flag": True}}])
    with pytest.raises(AnnotationError, match=r"adj\.jsonl:1: final"):
        apply_adjudication(corpus.parent, record)
