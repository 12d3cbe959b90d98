"""The model card (``README.md`` in a model directory), rendered from the manifest so its
figures can never drift from what `netral evaluate` prints."""

from __future__ import annotations

from typing import Any

from .labels import CATEGORY_NAMES, display_name
from .manifest import Manifest


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def _ci(ci: list[float] | None) -> str:
    return "n/a" if not ci else f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}"


def metrics_tables(m: dict[str, Any]) -> str:
    """Markdown tables of an evaluate() result."""
    f, c, cal = m["flag"], m["confusion"], m["calibration"]
    lines = [
        f"Items: {m['n']}.",
        "",
        "| flag | precision | recall | F1 (95% CI) | PR-AUC | Brier | ECE |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        f"| flag | {_pct(f['precision'])} | {_pct(f['recall'])} | {_pct(f['f1'])} ({_ci(f['f1_ci95'])}) "
        f"| {_pct(f['pr_auc'])} | {cal['brier']:.3f} | {cal['ece']:.3f} |",
        "",
        f"Confusion of flag: {c['tp']} true positives, {c['fp']} false positives, "
        f"{c['fn']} false negatives, {c['tn']} true negatives.",
        "",
        "| category | precision | recall | F1 | PR-AUC | support |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name in CATEGORY_NAMES:
        r = m["categories"][name]
        lines.append(
            f"| `{name}` ({display_name(name, 'en')}) | {_pct(r['precision'])} | {_pct(r['recall'])} "
            f"| {_pct(r['f1'])} | {_pct(r['pr_auc'])} | {r['support']} |"
        )
    lines += [
        "",
        f"Category macro-F1: {_pct(m['category_macro_f1'])} (95% CI {_ci(m['category_macro_f1_ci95'])}).",
    ]
    return "\n".join(lines)


def operating_point(m: dict[str, Any] | None) -> str:
    """Markdown of an operating point (``evaluate.operating_point``): precision and recall at
    the threshold and the precision to expect at low prevalence."""
    if not m:
        return "Not recorded; retrain to record it."
    expected = ", ".join(
        f"{float(p):.0%} prevalence: {_pct(v)}" for p, v in m["expected_precision"].items()
    )
    return (
        f"At the flag threshold {m['threshold']:.4f}, on the test split: precision "
        f"{_pct(m['precision'])}, recall {_pct(m['recall'])} (false positive rate "
        f"{_pct(m['fpr'])}). A live feed holds far fewer violations than the test split; the "
        f"precision to expect from these rates is, at {expected}. "
        "For a stricter flag, `netral score --min-precision P` picks the lowest threshold whose "
        "precision on the dev split reaches P."
    )


def _overlap(test: dict[str, Any] | None) -> str:
    overlap = (test or {}).get("evidence_overlap")
    if not overlap or overlap.get("rate") is None:
        return ""
    return (
        f"\nEvidence: for {_pct(overlap['rate'])}% of the {overlap['true_positives']} true "
        "positives with gold rationales, the top evidence span overlaps a gold actor or act span.\n"
    )


def _long_note(manifest: Manifest) -> str:
    shift = manifest.config.get("long_shift")
    if not shift:
        return ""
    source = manifest.config.get("threshold_data") or "the dev split"
    return (
        f"; the flag logit of texts of six or more sentences is shifted by {shift:+.3f}, "
        f"chosen on the long texts of {source}"
    )


def render(manifest: Manifest) -> str:
    """The full card. Intervals are bootstrap percentiles over the test items."""
    test = manifest.metrics.get("test")
    heads = [h for h in ("flag", *CATEGORY_NAMES) if h in manifest.thresholds]
    thresholds = "\n".join(f"| `{h}` | {manifest.thresholds[h]:.4f} |" for h in heads)
    kind_text = {
        "baseline": "a sentence scorer (logistic regression over each sentence's hashed word "
        "n-grams and its structural signals: which kind of actor, from a typed role gazetteer, "
        "shares a clause with a partisan act, and whether the act is negated, forbidden, counted or "
        "reported), trained from rationale spans; a document flag head over length-free features "
        "(the best sentences' scores, a hashed TF-IDF score of the whole text, shares of framing and "
        "procedure sentences) fitted on out-of-fold scores; and Platt-calibrated category heads on "
        "the sentences that carry the act",
        "transformer": "a fine-tuned BERT-family encoder with a flag head and a multi-label category "
        "head; long texts are scored in overlapping windows",
    }.get(manifest.kind, manifest.kind)
    return f"""# {manifest.name} {manifest.version}

A {manifest.kind} model of [netral-nlp](../../README.md): {kind_text}.

It answers, per item, the probability that the text shows or reports a partisan act by a civil
servant (ASN), a flag at a threshold tuned on the dev split, the violation categories and the
evidence spans. Label scheme: schema {manifest.schema_version}; preprocessing {manifest.preprocess_version}.

## Intended use

Triage for election and civil-service monitors (Bawaslu, BKN, regional inspectorates) and
batch screening of scraped Indonesian posts and news by analysts. A flag is a reason for a
person to look, never a finding: a human reviews every flagged item before anything is done
about it.

## Training data

The netral-nlp annotated corpus (`data/annotations/`, see its data card), written for the
project in Indonesian social-media, news, press-release and WhatsApp styles. Data hash
`{manifest.data_hash[:16]}…`. Training items: {manifest.config.get("train_items", "n/a")}
({"train + dev, after tuning on dev" if manifest.config.get("refit_on_dev") else "train split"}).

## Thresholds (tuned on the dev split to maximise F1{_long_note(manifest)})

| head | threshold |
| --- | --- |
{thresholds}

## Metrics on the held-out test split

{metrics_tables(test) if test else "No test split was available."}
{_overlap(test)}
## Operating point

{operating_point(manifest.metrics.get("operating_point"))}

Reproduce with `netral evaluate --model models/{manifest.name} --data data/annotations --split test`.

## Limitations

- The corpus is written for the project, not sampled from real feeds: real posts carry more
  noise, other slang and other topics, so expect lower precision on a live feed, where few
  items are violations. Re-tune the threshold on a labelled sample of your own feed.
- The test split comes from the same writers as the training data; figures on real news and
  posts will be lower.
- It reads text only: a photo of a civil servant at a rally with an innocent caption is missed.
- Who counts as ASN (e.g. a *lurah* in DI Yogyakarta is a village head, not a civil servant)
  is learnt from few examples; check the actor by hand.

## Ethical considerations

Accusing a civil servant of partisanship can cost them their career. Use the flag to
prioritise review, not to sanction; keep the evidence with every decision; never publish
a flag as a finding. Texts about people are personal data: store and share them only as
your mandate allows.
"""
