"""The evaluation report: evaluate's metrics of a model on labelled items as tables
(pandas), plots (matplotlib) and one self-contained HTML file or a Markdown + PNG folder.

It reads :func:`netral_nlp.evaluate.evaluate_items` and adds what a reader needs to trust
the numbers: bootstrap intervals for every category, PR curves with the chosen thresholds,
the reliability diagram, score histograms, slices by source type and corpus tag, and the
worst errors with their evidence. Needs the ``report`` extra (matplotlib, pandas)."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .evaluate import BOOTSTRAP_SEED, N_BOOTSTRAP, evaluate, evaluate_items
from .labels import CATEGORY_NAMES
from .prediction import Prediction

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SECTIONS = (
    ("summary", "Summary"),
    ("categories", "Per-category precision, recall and F1"),
    ("pr_curves", "Precision-recall curves"),
    ("confusion", "Flag confusion matrix"),
    ("reliability", "Reliability diagram"),
    ("histograms", "Score histograms by true label"),
    ("slices", "Slices by source type and tag"),
    ("errors", "Worst errors"),
)
PLOTS = ("pr_curves", "confusion", "reliability", "histograms")
WORST = 10  # errors of each kind shown


def gold_matrix(items: Sequence[Any]) -> np.ndarray:
    """(n, 1 + n_categories) 0/1 gold labels: flag, then CATEGORY_NAMES."""
    return np.array(
        [[int(i.flag), *(int(c in i.categories) for c in CATEGORY_NAMES)] for i in items],
        dtype=int,
    ).reshape(-1, 1 + len(CATEGORY_NAMES))


def prediction_matrices(predictions: Sequence[Prediction]) -> tuple[np.ndarray, np.ndarray]:
    """(decisions, scores), each (n, 1 + n_categories) in the order of ``gold_matrix``."""
    decided = np.array(
        [[int(p.flag), *(int(c in p.categories) for c in CATEGORY_NAMES)] for p in predictions],
        dtype=int,
    ).reshape(-1, 1 + len(CATEGORY_NAMES))
    scores = np.array(
        [[p.score, *(p.category_scores[c] for c in CATEGORY_NAMES)] for p in predictions],
        dtype=float,
    ).reshape(-1, 1 + len(CATEGORY_NAMES))
    return decided, scores


def prf_counts(gold: np.ndarray, pred: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision, recall and F1 of each column (0 where undefined)."""
    tp = (gold & pred).sum(axis=0).astype(float)
    p_den, r_den = pred.sum(axis=0), gold.sum(axis=0)
    precision = np.divide(tp, p_den, out=np.zeros_like(tp), where=p_den > 0)
    recall = np.divide(tp, r_den, out=np.zeros_like(tp), where=r_den > 0)
    f1 = np.divide(2 * tp, p_den + r_den, out=np.zeros_like(tp), where=(p_den + r_den) > 0)
    return precision, recall, f1


def bootstrap_prf(
    gold: np.ndarray, pred: np.ndarray, resamples: int = N_BOOTSTRAP, seed: int = BOOTSTRAP_SEED
) -> dict[str, np.ndarray]:
    """95% percentile intervals of each column's precision, recall and F1 over resamples
    of the items: arrays of shape (2, n_columns) keyed precision, recall, f1."""
    n = len(gold)
    if not n:
        nan = np.full((2, gold.shape[1]), np.nan)
        return {"precision": nan, "recall": nan, "f1": nan}
    rng = np.random.default_rng(seed)
    draws = {k: [] for k in ("precision", "recall", "f1")}
    for _ in range(resamples):
        i = rng.integers(0, n, n)
        for k, v in zip(draws, prf_counts(gold[i], pred[i]), strict=True):
            draws[k].append(v)
    return {k: np.percentile(np.array(v), [2.5, 97.5], axis=0) for k, v in draws.items()}


@dataclass
class EvaluationReport:
    """A model's evaluation on labelled items: the metrics of ``evaluate_items`` plus the
    items and predictions behind them, for tables, plots and the HTML report."""

    items: list[Any]
    predictions: list[Prediction]
    thresholds: dict[str, float]
    model_id: str = "model"
    split: str = "all"
    data: str = ""
    ambiguous: list[bool] | None = None
    rationales: list[Any] | None = None
    resamples: int = N_BOOTSTRAP
    seed: int = BOOTSTRAP_SEED
    metrics: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = evaluate_items(
            self.items,
            self.predictions,
            threshold=self.thresholds.get("flag"),
            ambiguous=self.ambiguous,
            rationales=self.rationales,
            seed=self.seed,
        )
        self.gold = gold_matrix(self.items)
        self.decided, self.scores = prediction_matrices(self.predictions)

    # -- tables --------------------------------------------------------------------------

    def to_frame(self, table: str = "categories") -> pd.DataFrame:
        """One table of the report: ``categories`` (flag and each category with 95%
        intervals), ``slices`` (by source type and tag), ``errors`` (the worst false
        positives and negatives) or ``predictions`` (one row per item)."""
        builders = {
            "categories": self._categories_frame,
            "slices": self._slices_frame,
            "errors": self._errors_frame,
            "predictions": self._predictions_frame,
        }
        if table not in builders:
            raise ValueError(f"unknown table {table!r}; expected one of {', '.join(builders)}")
        return builders[table]()

    def _categories_frame(self) -> pd.DataFrame:
        import pandas as pd

        precision, recall, f1 = prf_counts(self.gold, self.decided)
        ci = bootstrap_prf(self.gold, self.decided, self.resamples, self.seed)
        rows = []
        for j, name in enumerate(("flag", *CATEGORY_NAMES)):
            block = (
                self.metrics["flag"]
                if j == 0
                else self.metrics["categories"][CATEGORY_NAMES[j - 1]]
            )
            rows.append(
                {
                    "label": name,
                    "support": int(self.gold[:, j].sum()),
                    "precision": precision[j],
                    "precision_lo": ci["precision"][0, j],
                    "precision_hi": ci["precision"][1, j],
                    "recall": recall[j],
                    "recall_lo": ci["recall"][0, j],
                    "recall_hi": ci["recall"][1, j],
                    "f1": f1[j],
                    "f1_lo": ci["f1"][0, j],
                    "f1_hi": ci["f1"][1, j],
                    "pr_auc": block["pr_auc"],
                    "threshold": self.thresholds.get(name),
                }
            )
        return pd.DataFrame(rows).set_index("label")

    def slices(self) -> list[tuple[str, str, list[int]]]:
        """(kind, value, item indices) of every slice: each source type, each tag."""
        out: dict[tuple[str, str], list[int]] = {}
        for k, item in enumerate(self.items):
            out.setdefault(("source_type", str(item.source_type)), []).append(k)
            for tag in getattr(item, "tags", None) or ():
                out.setdefault(("tag", str(tag)), []).append(k)
        return [(kind, value, idx) for (kind, value), idx in sorted(out.items())]

    def _slices_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = []
        for kind, value, idx in self.slices():
            m = evaluate(
                [self.items[i].flag for i in idx],
                [self.items[i].categories for i in idx],
                [self.predictions[i] for i in idx],
                seed=self.seed,
            )
            rows.append(
                {
                    "slice": kind,
                    "value": value,
                    "n": len(idx),
                    "flagged_gold": int(self.gold[idx, 0].sum()),
                    **{f"flag_{k}": m["flag"][k] for k in ("precision", "recall", "f1")},
                    "flag_f1_lo": (m["flag"]["f1_ci95"] or [None, None])[0],
                    "flag_f1_hi": (m["flag"]["f1_ci95"] or [None, None])[1],
                    **m["confusion"],
                    "category_macro_f1": m["category_macro_f1"],
                }
            )
        return pd.DataFrame(rows)

    def worst_errors(self, k: int = WORST) -> list[tuple[str, int]]:
        """("FP" or "FN", item index): the k highest-scoring false positives, then the k
        lowest-scoring false negatives."""
        y, yhat, s = self.gold[:, 0], self.decided[:, 0], self.scores[:, 0]
        fp = [int(i) for i in np.flatnonzero((y == 0) & (yhat == 1))]
        fn = [int(i) for i in np.flatnonzero((y == 1) & (yhat == 0))]
        fp.sort(key=lambda i: -s[i])
        fn.sort(key=lambda i: s[i])
        return [("FP", i) for i in fp[:k]] + [("FN", i) for i in fn[:k]]

    def _errors_frame(self) -> pd.DataFrame:
        import pandas as pd

        rows = [
            {
                "error": kind,
                "id": self.items[i].id,
                "score": self.scores[i, 0],
                "source_type": self.items[i].source_type,
                "gold_categories": list(self.items[i].categories),
                "predicted_categories": list(self.predictions[i].categories),
                "evidence": list(self.predictions[i].evidence),
                "text": self.items[i].text,
            }
            for kind, i in self.worst_errors()
        ]
        return pd.DataFrame(rows)

    def _predictions_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(
            {
                "id": [i.id for i in self.items],
                "source_type": [i.source_type for i in self.items],
                "gold_flag": self.gold[:, 0].astype(bool),
                "score": self.scores[:, 0],
                "flag": self.decided[:, 0].astype(bool),
                "gold_categories": [list(i.categories) for i in self.items],
                "categories": [list(p.categories) for p in self.predictions],
            }
        )

    # -- plots ---------------------------------------------------------------------------

    def figures(self) -> dict[str, Figure]:
        """The report's plots by section name: pr_curves, confusion, reliability,
        histograms (matplotlib figures, closed to pyplot's state)."""
        return {k: self.figures_one(k) for k in PLOTS}

    def plot_pr_curves(self) -> Figure:
        """PR curves of the flag score and of each category's score where the model flags
        the item (categories are decided for flagged items only; elsewhere 0), with the
        precision and recall of the model's decisions at its chosen thresholds marked."""
        from sklearn.metrics import precision_recall_curve

        names = ("flag", *CATEGORY_NAMES)
        fig, axes = _subplots(2, 3, (12, 7))
        for j, (ax, name) in enumerate(zip(axes.ravel(), names, strict=False)):
            y, s = self.gold[:, j], self.scores[:, j] * (self.decided[:, 0] if j else 1)
            ax.set_title(name, fontsize=10)
            ax.set_xlim(0, 1.02)
            ax.set_ylim(0, 1.02)
            ax.set_xlabel("recall")
            ax.set_ylabel("precision")
            if not 0 < y.sum() < len(y):
                ax.text(0.5, 0.5, "one class only", ha="center")
                continue
            precision, recall, _ = precision_recall_curve(y, s)
            ax.plot(recall, precision)
            t = self.thresholds.get(name)
            if t is not None:
                p_at, r_at = prf_counts(self.gold[:, [j]], self.decided[:, [j]])[:2]
                ax.plot([r_at[0]], [p_at[0]], "o", color="C3", label=f"threshold {t:.3f}")
                ax.legend(loc="lower left", fontsize=8)
        for ax in axes.ravel()[len(names) :]:
            ax.axis("off")
        fig.tight_layout()
        return fig

    def plot_confusion(self) -> Figure:
        """The flag confusion matrix (rows: gold, columns: predicted)."""
        c = self.metrics["confusion"]
        m = np.array([[c["tn"], c["fp"]], [c["fn"], c["tp"]]])
        fig, axes = _subplots(1, 1, (4, 3.5))
        ax = axes[0, 0]
        ax.imshow(m, cmap="Blues")
        for (r, k), v in np.ndenumerate(m):
            ax.text(k, r, str(v), ha="center", va="center", color="black", fontsize=12)
        ax.set_xticks([0, 1], ["not flagged", "flagged"])
        ax.set_yticks([0, 1], ["not flagged", "flagged"])
        ax.set_xlabel("predicted")
        ax.set_ylabel("gold")
        fig.tight_layout()
        return fig

    def plot_reliability(self, bins: int = 10) -> Figure:
        """Observed flag rate against mean score in equal-width score bins."""
        y, s = self.gold[:, 0], self.scores[:, 0]
        edges = np.linspace(0, 1, bins + 1)
        idx = np.clip(np.digitize(s, edges[1:-1]), 0, bins - 1)
        mean_s, rate, count = [], [], []
        for b in range(bins):
            mask = idx == b
            if mask.any():
                mean_s.append(s[mask].mean())
                rate.append(y[mask].mean())
                count.append(int(mask.sum()))
        fig, axes = _subplots(1, 1, (4.5, 4))
        ax = axes[0, 0]
        ax.plot([0, 1], [0, 1], "--", color="grey", label="perfect")
        ax.plot(mean_s, rate, "o-", label="model")
        for x, r, n in zip(mean_s, rate, count, strict=True):
            ax.annotate(str(n), (x, r), fontsize=7, textcoords="offset points", xytext=(3, 3))
        ece = self.metrics["calibration"]["ece"]
        ax.set_title(f"flag score (ECE {ece:.3f})" if ece is not None else "flag score")
        ax.set_xlabel("mean score in bin")
        ax.set_ylabel("observed flag rate")
        ax.legend(loc="upper left", fontsize=8)
        fig.tight_layout()
        return fig

    def plot_histograms(self) -> Figure:
        """Flag score histograms of gold-flagged and gold-unflagged items."""
        y, s = self.gold[:, 0], self.scores[:, 0]
        fig, axes = _subplots(1, 1, (6, 3.5))
        ax = axes[0, 0]
        bins = np.linspace(0, 1, 26)
        ax.hist(s[y == 0], bins=bins, alpha=0.6, label=f"gold not flagged ({int((y == 0).sum())})")
        ax.hist(s[y == 1], bins=bins, alpha=0.6, label=f"gold flagged ({int((y == 1).sum())})")
        t = self.thresholds.get("flag")
        if t is not None:
            ax.axvline(t, color="C3", linestyle="--", label=f"threshold {t:.3f}")
        ax.set_xlabel("flag score")
        ax.set_ylabel("items")
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig

    # -- documents -----------------------------------------------------------------------

    def summary_lines(self) -> list[str]:
        """The headline numbers, one per line."""
        m = self.metrics
        flag, op = m["flag"], m["operating_point"]
        ci = flag.get("f1_ci95") or [float("nan")] * 2
        mci = m.get("category_macro_f1_ci95") or [float("nan")] * 2
        lines = [
            f"model {self.model_id}; data {self.data} [{self.split}]; {m['n']} items",
            f"flag precision {flag['precision']:.3f}, recall {flag['recall']:.3f}, "
            f"F1 {flag['f1']:.3f} (95% CI {ci[0]:.3f} to {ci[1]:.3f}), "
            f"PR-AUC {_num(flag['pr_auc'])}",
            f"category macro-F1 {m['category_macro_f1']:.3f} (95% CI {mci[0]:.3f} to {mci[1]:.3f})",
            f"flag threshold {_num(op['threshold'])}; expected precision at 1% prevalence "
            f"{_num(op['expected_precision'].get('0.01'))}, at 5% "
            f"{_num(op['expected_precision'].get('0.05'))}",
            f"calibration: Brier {_num(m['calibration']['brier'])}, "
            f"ECE {_num(m['calibration']['ece'])}",
        ]
        if m.get("evidence_overlap"):
            lines.append(
                f"top evidence overlaps a gold span: {_num(m['evidence_overlap']['rate'])}"
            )
        return lines

    def highlighted(self, index: int) -> str:
        """The item's text as HTML, escaped, its evidence spans in ``<mark>``."""
        text = self.items[index].text
        spans = sorted(
            {(s.start, s.end) for s in self.predictions[index].spans if 0 <= s.start < s.end}
        )
        out, at = [], 0
        for start, end in spans:
            start = max(start, at)
            if start >= end or end > len(text):
                continue
            out.append(html.escape(text[at:start]))
            out.append(f"<mark>{html.escape(text[start:end])}</mark>")
            at = end
        out.append(html.escape(text[at:]))
        return "".join(out)

    def to_html(self, path: str | Path | None = None) -> str:
        """The report as one self-contained HTML page (plots as base64 PNG); written to
        ``path`` when given. Returns the HTML."""
        images = {k: _png(f) for k, f in self.figures().items()}
        parts = [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>{html.escape(self.model_id)} evaluation</title><style>{_CSS}</style>",
            "</head><body>",
            f"<h1>Evaluation of {html.escape(self.model_id)}</h1>",
        ]
        for key, title in SECTIONS:
            parts.append(f"<section id='{key}'><h2>{html.escape(title)}</h2>")
            if key == "summary":
                parts.append(
                    "<ul>"
                    + "".join(f"<li>{html.escape(x)}</li>" for x in self.summary_lines())
                    + "</ul>"
                )
            elif key == "categories":
                parts.append(_html_table(self._categories_frame().reset_index()))
            elif key == "slices":
                parts.append(_html_table(self._slices_frame()))
            elif key == "errors":
                parts.append(self._errors_html())
            else:
                data = base64.b64encode(images[key]).decode("ascii")
                parts.append(f"<img alt='{html.escape(title)}' src='data:image/png;base64,{data}'>")
            parts.append("</section>")
        parts.append("</body></html>")
        page = "\n".join(parts)
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _errors_html(self) -> str:
        rows = []
        for kind, i in self.worst_errors():
            item, pred = self.items[i], self.predictions[i]
            rows.append(
                "<tr>"
                f"<td>{kind}</td><td>{html.escape(str(item.id))}</td>"
                f"<td>{pred.score:.3f}</td><td>{html.escape(str(item.source_type))}</td>"
                f"<td>{html.escape(', '.join(item.categories))}</td>"
                f"<td>{html.escape(', '.join(pred.categories))}</td>"
                f"<td class='text'>{self.highlighted(i)}</td></tr>"
            )
        if not rows:
            return "<p>No errors.</p>"
        head = "".join(
            f"<th>{h}</th>"
            for h in ("error", "id", "score", "source", "gold categories", "predicted", "text")
        )
        return f"<table><tr>{head}</tr>{''.join(rows)}</table>"

    def to_markdown(self, directory: str | Path) -> Path:
        """The report as ``report.md`` plus one PNG per plot in ``directory`` (for papers).
        Returns the Markdown file's path."""
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        lines = [f"# Evaluation of {self.model_id}", ""]
        for key, title in SECTIONS:
            lines += [f"## {title}", ""]
            if key == "summary":
                lines += [f"- {x}" for x in self.summary_lines()]
            elif key == "categories":
                lines.append(_md_table(self._categories_frame().reset_index()))
            elif key == "slices":
                lines.append(_md_table(self._slices_frame()))
            elif key == "errors":
                frame = self._errors_frame()
                if frame.empty:
                    lines.append("No errors.")
                else:
                    frame["text"] = frame["text"].str.slice(0, 200)
                    lines.append(_md_table(frame.drop(columns=["evidence"])))
            else:
                (out / f"{key}.png").write_bytes(_png(self.figures_one(key)))
                lines.append(f"![{title}]({key}.png)")
            lines.append("")
        path = out / "report.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    def figures_one(self, key: str) -> Figure:
        """One plot by section name (see ``figures``)."""
        return {
            "pr_curves": self.plot_pr_curves,
            "confusion": self.plot_confusion,
            "reliability": self.plot_reliability,
            "histograms": self.plot_histograms,
        }[key]()


_CSS = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}"
    "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 6px}"
    "td.text{max-width:520px}mark{background:#ffe066}img{max-width:100%}"
)


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.3f}"


def _subplots(rows: int, cols: int, size: tuple[float, float]) -> tuple[Figure, Any]:
    """A figure outside pyplot's global state (no display, no leak across calls)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=90)
    axes = fig.subplots(rows, cols, squeeze=False)
    return fig, axes


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return "" if np.isnan(v) else f"{v:.3f}"
    return str(v) if v is not None else ""


def _html_table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_cell(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _md_table(frame: pd.DataFrame) -> str:
    def md(v: Any) -> str:
        return _cell(v).replace("|", "\\|").replace("\n", " ")

    lines = [
        "| " + " | ".join(str(c) for c in frame.columns) + " |",
        "|" + "---|" * len(frame.columns),
    ]
    lines += ["| " + " | ".join(md(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)
