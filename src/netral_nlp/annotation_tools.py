"""Round trips to the annotation tools, written here so neither tool's SDK is a dependency.

Export turns scored rows into tasks whose pre-annotations are the model's predictions;
import turns the tools' exports back into corpus rows with rationale spans.

- Label Studio: a JSON list of tasks, ``data`` = {id, text, author_context, source_type},
  ``predictions`` = [{model_version, score, result}], plus the labelling config (XML):
  Choices ``flag``, ``partisan``, ``asn`` (yes/no), ``categories`` (multiple) and Labels
  ``rationale`` (actor/act/target/frame) on the text. Its JSON export adds
  ``annotations[].result`` in the same shape.
- doccano: JSON Lines with ``text``, ``label`` = [[start, end, role]], ``cats`` (the names
  ``flag``, ``partisan``, ``asn`` for those that are true, then the categories) and our id
  in ``item_id`` (doccano keeps its own ``id``). Its JSONL export gives the same fields.
- The review queue (import only): the JSON Lines of ``netral queue export``, one decided
  queue item a line (``ReviewQueue`` fields: status, decided categories, partisan/asn of a
  dismissal, the model's evidence spans). See :func:`queue_row` for what a decision means.

The corpus metadata of a row (ITEM_METADATA: split, platform, province, election, tags,
notes) travels in Label Studio's task ``data`` and as extra doccano keys, which both tools
keep in their exports, so re-annotating corpus items loses none of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from enum import Enum
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

from .data import ITEM_METADATA, AnnotationError, normalise_for_dedup, read_records
from .labels import CATEGORY_NAMES, RATIONALE_ROLES
from .prediction import SpanKind

# Rationale roles of LABELS.md, in the order the labelling tools show them.
# Model evidence that marks a rationale role; other span kinds explain, they do not mark.
ROLE_OF_SPAN_KIND = {
    SpanKind.ASN_ROLE.value: "actor",
    SpanKind.PARTISAN_ACT.value: "act",
    SpanKind.CANDIDATE.value: "target",
}
BOOL_HEADS: tuple[str, ...] = ("flag", "partisan", "asn")
YES, NO = "yes", "no"
SPAN_TAG = "rationale"  # Label Studio's Labels name
DEFAULT_SOURCE_TYPE = "post"
# Tags of rows made from review-queue decisions (see queue_row).
QUEUE_TAG = "review_queue"
QUEUE_PARTS_UNREVIEWED = "queue_parts_unreviewed"
QUEUE_STATUSES = ("confirmed", "dismissed")


class Tool(str, Enum):
    """Where ``export`` writes tasks to."""

    label_studio = "label-studio"
    doccano = "doccano"


class Source(str, Enum):
    """Where ``import`` reads annotations from: a tool's export or the review queue's."""

    label_studio = "label-studio"
    doccano = "doccano"
    queue = "queue"


class ExportError(AnnotationError):
    """A tool's export cannot be read; the message names the task and the field."""


# --------------------------------------------------------------------------- export


def pre_spans(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Rationale spans to pre-annotate: the row's own ``rationales`` if it has them, else
    its evidence spans whose kind marks a role. Spans outside the text, crossing an
    earlier one, or of a role the row's flag rules out (an unflagged item has no ASN
    actor, a flagged one no frame: GUIDELINES section 8) are dropped, so an accepted
    pre-annotation is a valid rationale list."""
    text = row["text"]
    ruled_out = "frame" if row.get("flag") else "actor"
    if isinstance(row.get("rationales"), list):
        spans = [
            (s.get("start"), s.get("end"), s.get("role"))
            for s in row["rationales"]
            if isinstance(s, dict)
        ]
    else:
        spans = [
            (s.get("start"), s.get("end"), ROLE_OF_SPAN_KIND.get(s.get("kind", "")))
            for s in row.get("evidence_spans") or []
            if isinstance(s, dict)
        ]
    kept: list[dict[str, Any]] = []
    end = -1
    for start, stop, role in sorted(
        (s for s in spans if isinstance(s[0], int) and isinstance(s[1], int)),
        key=lambda s: (s[0], -s[1]),
    ):
        if role not in RATIONALE_ROLES or role == ruled_out:
            continue
        if not 0 <= start < stop <= len(text) or start < end:
            continue
        kept.append({"start": start, "end": stop, "role": role, "text": text[start:stop]})
        end = stop
    return kept


def _bool_labels(row: dict[str, Any]) -> dict[str, bool]:
    """flag, partisan, asn as far as the row tells: a flag implies both; an unflagged
    row says nothing of partisan or asn unless it carries them."""
    out = {"flag": bool(row.get("flag"))}
    for name in ("partisan", "asn"):
        if isinstance(row.get(name), bool):
            out[name] = row[name]
        elif out["flag"]:
            out[name] = True
    return out


def _categories(row: dict[str, Any]) -> list[str]:
    cats = row.get("categories") or []
    return [c for c in CATEGORY_NAMES if c in cats] if row.get("flag") else []


def _metadata(row: dict[str, Any]) -> dict[str, Any]:
    """The row's ITEM_METADATA fields that are set, in ITEM_METADATA order."""
    return {k: row[k] for k in ITEM_METADATA if row.get(k) is not None}


def label_studio_task(row: dict[str, Any]) -> dict[str, Any]:
    """One Label Studio task of a scored row, the prediction as pre-annotation."""
    result: list[dict[str, Any]] = []

    def choices(name: str, values: list[str]) -> None:
        result.append(
            {
                "id": f"{name}",
                "from_name": name,
                "to_name": "text",
                "type": "choices",
                "value": {"choices": values},
            }
        )

    for name, value in _bool_labels(row).items():
        choices(name, [YES if value else NO])
    if cats := _categories(row):
        choices("categories", cats)
    for k, span in enumerate(pre_spans(row)):
        result.append(
            {
                "id": f"span{k}",
                "from_name": SPAN_TAG,
                "to_name": "text",
                "type": "labels",
                "value": {
                    "start": span["start"],
                    "end": span["end"],
                    "text": span["text"],
                    "labels": [span["role"]],
                },
            }
        )
    data = {"id": row["id"], "text": row["text"], "author_context": row.get("author_context") or ""}
    if row.get("source_type"):
        data["source_type"] = row["source_type"]
    data |= _metadata(row)
    return {
        "data": data,
        "predictions": [
            {"model_version": str(row.get("model") or ""), "score": row["score"], "result": result}
        ],
    }


def label_studio_config() -> str:
    """The labelling config (XML) the tasks' ``from_name`` and ``to_name`` refer to."""

    def choices(name: str, values: Iterable[str], extra: str = "") -> str:
        inner = "".join(f"\n    <Choice value={quoteattr(v)}/>" for v in values)
        return (
            f'  <Header value="{name}"/>\n'
            f'  <Choices name="{name}" toName="text"{extra}>{inner}\n  </Choices>\n'
        )

    labels = "".join(f"\n    <Label value={quoteattr(r)}/>" for r in RATIONALE_ROLES)
    return (
        "<View>\n"
        '  <Header value="Author context (bio, byline)"/>\n'
        '  <Text name="author_context" value="$author_context"/>\n'
        f'  <Labels name="{SPAN_TAG}" toName="text">{labels}\n  </Labels>\n'
        '  <Text name="text" value="$text"/>\n'
        + "".join(choices(h, (YES, NO), ' choice="single" required="true"') for h in BOOL_HEADS)
        + choices(
            "categories",
            CATEGORY_NAMES,
            ' choice="multiple" visibleWhen="choice-selected" whenTagName="flag"'
            f' whenChoiceValue="{YES}"',
        )
        + "</View>\n"
    )


def doccano_line(row: dict[str, Any]) -> dict[str, Any]:
    """One doccano JSONL record of a scored row; the prediction as its labels."""
    bools = _bool_labels(row)
    return {
        "item_id": row["id"],
        "text": row["text"],
        "label": [[s["start"], s["end"], s["role"]] for s in pre_spans(row)],
        "cats": [h for h in BOOL_HEADS if bools.get(h)] + _categories(row),
        "author_context": row.get("author_context"),
        "source_type": row.get("source_type"),
        "model": row.get("model"),
        "score": row["score"],
        **_metadata(row),
    }


def export_tasks(
    rows: Sequence[dict[str, Any]], tool: Tool | str, path: str | Path, config: str | Path | None
) -> list[Path]:
    """Write ``rows`` as ``tool`` tasks to ``path`` (Label Studio: and its config to
    ``config``, default ``path`` + ``.xml``). Returns the files written."""
    tool, path = Tool(tool), Path(path)
    if tool is Tool.doccano:
        with open(path, "w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(doccano_line(row), ensure_ascii=False) + "\n")
        return [path]
    tasks = [label_studio_task(row) for row in rows]
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    config_path = Path(config) if config is not None else path.with_name(path.name + ".xml")
    config_path.write_text(label_studio_config(), encoding="utf-8")
    return [path, config_path]


# --------------------------------------------------------------------------- import


def _from_utf16(text: str, offset: int) -> int | None:
    """The code-point offset of a UTF-16 code-unit offset; None inside a surrogate pair."""
    units = 0
    for k, ch in enumerate(text):
        if units == offset:
            return k
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text) if units == offset else None


def _span(where: str, text: str, start: Any, end: Any, role: Any, quoted: Any) -> dict[str, Any]:
    """A rationale span checked against ``text``; ``quoted`` is the tool's copy of the
    span's text when it gives one."""
    if any(not isinstance(v, int) or isinstance(v, bool) for v in (start, end)):
        raise ExportError(f"{where}: start/end: expected integers, got {start!r}, {end!r}")
    if role not in RATIONALE_ROLES:
        raise ExportError(
            f"{where}: role: unknown {role!r} (expected one of {', '.join(RATIONALE_ROLES)})"
        )
    inside = 0 <= start < end <= len(text)
    if quoted is not None and not (inside and quoted == text[start:end]):
        # Older Label Studio counts UTF-16 code units (an emoji is 2): convert and retry.
        start16, end16 = _from_utf16(text, start), _from_utf16(text, end)
        if start16 is not None and end16 is not None and text[start16:end16] == quoted:
            return {"start": start16, "end": end16, "role": role, "text": quoted}
        if inside:
            raise ExportError(
                f"{where}: text: {quoted!r} differs from the text at {start}-{end} "
                f"({text[start:end]!r}); was the text edited after export?"
            )
    if not inside:
        raise ExportError(f"{where}: start/end: {start}-{end} is outside the text (0-{len(text)})")
    return {"start": start, "end": end, "role": role, "text": text[start:end]}


def _corpus_row(
    item_id: Any,
    source: dict[str, Any],
    text: str,
    bools: dict[str, bool],
    categories: list[str],
    spans: list[dict[str, Any]],
    annotator: Any = None,
    notes: str | None = None,
) -> dict[str, Any]:
    """A corpus row: the LABELS.md fields, metadata, annotator, notes, rationales.
    ``source`` (the task's data, the doccano record) gives source_type, author_context and
    the ITEM_METADATA fields, which the validator checks; ``notes`` from the tool replace
    the source's."""
    row = {
        "id": str(item_id),
        "text": text,
        "source_type": source.get("source_type") or DEFAULT_SOURCE_TYPE,
        "author_context": source.get("author_context") or None,
        "partisan": bools["partisan"],
        "asn": bools["asn"],
        "flag": bools["flag"],
        "categories": [c for c in CATEGORY_NAMES if c in categories],
        **_metadata(source),
    }
    if annotator not in (None, ""):
        row["annotator"] = str(annotator)
    if notes:
        row["notes"] = notes
    row["rationales"] = sorted(spans, key=lambda s: (s["start"], s["end"]))
    return row


def _check_categories(where: str, values: Any) -> list[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ExportError(f"{where}: expected a list of strings, got {values!r}")
    unknown = [v for v in values if v not in CATEGORY_NAMES]
    if unknown:
        raise ExportError(
            f"{where}: unknown category {unknown[0]!r} (expected among {', '.join(CATEGORY_NAMES)})"
        )
    return values


def _read_label_studio_task(file: str, t: int, task: Any) -> dict[str, Any] | None:
    """A corpus row of one exported task, None when it has no submitted annotation."""
    where = f"{file}: task {t}"
    if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
        raise ExportError(f"{where}: data: missing; is this Label Studio's JSON export?")
    data = task["data"]
    where = f"{where} (id {data.get('id')!r})"
    if data.get("id") in (None, ""):
        raise ExportError(
            f"{where}: data.id: missing; tasks must come from `netral annotations export`"
        )
    text = data.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ExportError(f"{where}: data.text: missing or empty")
    annotations = task.get("annotations", [])
    if not isinstance(annotations, list):
        raise ExportError(f"{where}: annotations: expected a list")
    done = [
        (k, a)
        for k, a in enumerate(annotations)
        if isinstance(a, dict) and not a.get("was_cancelled")
    ]
    if not done:
        return None
    k, annotation = done[-1]  # the latest submitted annotation wins
    result = annotation.get("result")
    if not isinstance(result, list):
        raise ExportError(f"{where}: annotations[{k}].result: expected a list")
    bools: dict[str, bool] = {}
    categories: list[str] = []
    spans: list[dict[str, Any]] = []
    notes = None
    for r, entry in enumerate(result):
        at = f"{where}: annotations[{k}].result[{r}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), dict):
            raise ExportError(f"{at}.value: missing")
        name, value = entry.get("from_name"), entry["value"]
        if name in BOOL_HEADS:
            picked = value.get("choices")
            if picked not in ([YES], [NO]):
                raise ExportError(
                    f"{at}.value.choices: {name}: expected [{YES!r}] or [{NO!r}], got {picked!r}"
                )
            bools[name] = picked == [YES]
        elif name == "categories":
            categories = _check_categories(f"{at}.value.choices", value.get("choices"))
        elif name == SPAN_TAG:
            roles = value.get("labels")
            if not isinstance(roles, list) or len(roles) != 1:
                raise ExportError(f"{at}.value.labels: expected one role, got {roles!r}")
            spans.append(
                _span(
                    f"{at}.value",
                    text,
                    value.get("start"),
                    value.get("end"),
                    roles[0],
                    value.get("text"),
                )
            )
        elif name == "notes" and isinstance(value.get("text"), list):
            notes = " ".join(str(v) for v in value["text"]) or None
        else:
            raise ExportError(f"{at}.from_name: unknown {name!r} (not in the exported config)")
    if "flag" not in bools:
        raise ExportError(f"{where}: annotations[{k}]: flag: no choice made")
    for name in ("partisan", "asn"):
        if name not in bools:
            if not bools["flag"]:
                raise ExportError(f"{where}: annotations[{k}]: {name}: no choice made")
            bools[name] = True  # flag = partisan and asn
    annotator = annotation.get("completed_by")
    if isinstance(annotator, dict):
        annotator = annotator.get("email") or annotator.get("id")
    return _corpus_row(data["id"], data, text, bools, categories, spans, annotator, notes)


def read_label_studio(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """(corpus rows, tasks without a submitted annotation) of a Label Studio JSON export."""
    try:
        tasks = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ExportError(f"{path}: not a JSON file ({exc})") from None
    if not isinstance(tasks, list):
        raise ExportError(f"{path}: expected a JSON list of tasks (Label Studio's JSON export)")
    rows, skipped = [], 0
    for t, task in enumerate(tasks, start=1):
        row = _read_label_studio_task(str(path), t, task)
        if row is None:
            skipped += 1
        else:
            rows.append(row)
    return rows, skipped


def _read_doccano_line(where: str, obj: dict[str, Any]) -> dict[str, Any]:
    item_id = obj.get("item_id", obj.get("id"))
    where = f"{where} (id {item_id!r})"
    if item_id in (None, ""):
        raise ExportError(f"{where}: item_id: missing")
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ExportError(f"{where}: text: missing or empty")
    cats = obj.get("cats", [])
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        raise ExportError(f"{where}: cats: expected a list of strings, got {cats!r}")
    bools = {h: h in cats for h in BOOL_HEADS}
    categories = _check_categories(f"{where}: cats", [c for c in cats if c not in BOOL_HEADS])
    spans = []
    if "entities" in obj and "label" not in obj:  # doccano's relation-style export
        raw = [
            (e.get("start_offset"), e.get("end_offset"), e.get("label"))
            if isinstance(e, dict)
            else e
            for e in obj["entities"] or []
        ]
        field = "entities"
    else:
        raw, field = obj.get("label") or [], "label"
    if not isinstance(raw, list):
        raise ExportError(f"{where}: {field}: expected a list of [start, end, role]")
    for s, span in enumerate(raw):
        if not isinstance(span, (list, tuple)) or len(span) != 3:
            raise ExportError(f"{where}: {field}[{s}]: expected [start, end, role], got {span!r}")
        spans.append(_span(f"{where}: {field}[{s}]", text, *span, None))
    return _corpus_row(item_id, obj, text, bools, categories, spans)


def _read_lines(
    path: str | Path, convert: Callable[[str, dict[str, Any]], dict[str, Any]]
) -> tuple[list[dict[str, Any]], int]:
    """(corpus rows, 0) of a JSON Lines file whose every record is annotated: ``convert``
    turns each record (with its ``file:line``) into a corpus row."""
    try:
        records = read_records(path)
    except AnnotationError as exc:
        raise ExportError(str(exc)) from None
    return [convert(f"{file}:{line}", obj) for file, line, obj in records], 0


def read_doccano(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """(corpus rows, 0) of a doccano JSONL export: every record counts as annotated."""
    return _read_lines(path, _read_doccano_line)


def _typed(where: str, obj: dict[str, Any], name: str, types: tuple[type, ...], want: str) -> Any:
    """``obj[name]`` if it has one of ``types`` (a bool is no number), else ExportError."""
    value = obj.get(name)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise ExportError(f"{where}: {name}: expected {want}, got {shown}")
    return value


def queue_row(where: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A corpus row of one review-queue decision, a line of ``netral queue export``.

    - confirmed: flag, partisan and asn true; the categories the reviewer kept (the model's
      unless corrected). Rationales are the model's evidence spans whose kind marks a role
      (:func:`pre_spans`): the reviewer confirmed with them highlighted, and the queue has
      no span editor. A confirmation whose evidence has no act (or no actor, with the ASN
      not in the text) is not a valid v2 row: the validator says so, by id, on import.
    - dismissed: flag false, no categories. A dismissal says only "not partisan and asn":
      the half the reviewer said held is true, what they left unsaid is false and the row
      is tagged ``queue_parts_unreviewed`` so a trainer can drop or re-check it. Act and
      target evidence is kept when partisan held; no span otherwise.

    Every row is tagged ``review_queue``; its id is ``queue-`` + the queue id, its
    annotator the reviewer, its notes the reviewer's note and the model's verdict.
    """
    item_id = obj.get("id")
    where = f"{where} (id {item_id!r})"
    if not isinstance(item_id, str) or not item_id:
        raise ExportError(f"{where}: id: missing; is this a file written by `netral queue export`?")
    status = obj.get("status")
    if status not in QUEUE_STATUSES:
        raise ExportError(
            f"{where}: status: expected {' or '.join(map(repr, QUEUE_STATUSES))}, got {status!r}"
        )
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ExportError(f"{where}: text: missing or empty")
    said = {
        h: _typed(where, obj, h, (bool, type(None)), "true, false or null") for h in BOOL_HEADS[1:]
    }
    evidence = _typed(where, obj, "evidence_spans", (list,), "a list of spans")
    reviewer = _typed(where, obj, "reviewer", (str, type(None)), "a string or null")
    note = _typed(where, obj, "note", (str, type(None)), "a string or null")
    model = _typed(where, obj, "model", (str,), "a string")
    score = _typed(where, obj, "score", (int, float), "a number")
    url = _typed(where, obj, "url", (str, type(None)), "a string or null")
    tags = [QUEUE_TAG]
    if status == "confirmed":
        if False in said.values():
            raise ExportError(f"{where}: a confirmed item is partisan and asn, got {said}")
        bools = dict.fromkeys(BOOL_HEADS, True)
        categories = _check_categories(
            f"{where}: decided_categories", obj.get("decided_categories")
        )
    else:
        if said["partisan"] and said["asn"]:
            raise ExportError(f"{where}: partisan and asn both true is a flag, not a dismissal")
        bools = {"flag": False, "partisan": bool(said["partisan"]), "asn": bool(said["asn"])}
        categories = []
        if None in said.values():
            tags.append(QUEUE_PARTS_UNREVIEWED)
    spans = (
        pre_spans({"text": text, "flag": bools["flag"], "evidence_spans": evidence})
        if bools["partisan"]
        else []
    )
    provenance = f"review queue: {status} by {reviewer}; model {model} score {score:.3f}"
    if url:
        provenance += f"; from {url}"
    source = {
        "source_type": obj.get("source_type"),
        "author_context": obj.get("author_context"),
        "tags": tags,
    }
    notes = f"{note} ({provenance})" if note else provenance
    return _corpus_row(f"queue-{item_id}", source, text, bools, categories, spans, reviewer, notes)


def read_queue(path: str | Path) -> tuple[list[dict[str, Any]], int]:
    """(corpus rows, 0) of ``netral queue export``'s JSON Lines: every line is a decision."""
    return _read_lines(path, queue_row)


def read_export(path: str | Path, source: Source | str) -> tuple[list[dict[str, Any]], int]:
    """(corpus rows, unannotated tasks skipped) of a tool's or the review queue's export."""
    if not Path(path).is_file():
        raise ExportError(f"{path}: no such file")
    readers = {
        Source.label_studio: read_label_studio,
        Source.doccano: read_doccano,
        Source.queue: read_queue,
    }
    return readers[Source(source)](path)


# --------------------------------------------------------------------------- conflicts


def _labels(obj: dict[str, Any]) -> tuple[Any, ...]:
    return (
        obj.get("flag"),
        obj.get("partisan"),
        obj.get("asn"),
        tuple(sorted(obj.get("categories") or [])),
    )


def _describe(obj: dict[str, Any]) -> str:
    cats = ",".join(sorted(obj.get("categories") or [])) or "-"
    return f"flag={obj.get('flag')} partisan={obj.get('partisan')} asn={obj.get('asn')} categories={cats}"


def conflicts(rows: Sequence[dict[str, Any]], corpus: str | Path) -> list[str]:
    """One line per imported row whose id, or normalised text, is already in ``corpus``
    with different labels (flag, partisan, asn, categories)."""
    by_id: dict[str, tuple[str, dict[str, Any]]] = {}
    by_text: dict[str, tuple[str, dict[str, Any]]] = {}
    for file, line, obj in read_records(corpus):
        where = f"{file}:{line}"
        by_id.setdefault(str(obj.get("id")), (where, obj))
        if isinstance(obj.get("text"), str):
            by_text.setdefault(normalise_for_dedup(obj["text"]), (where, obj))
    out = []
    for row in rows:
        for key, index, what in (
            (row["id"], by_id, "same id"),
            (normalise_for_dedup(row["text"]), by_text, "same text"),
        ):
            hit = index.get(key)
            if hit is not None and _labels(hit[1]) != _labels(row):
                where, obj = hit
                out.append(
                    f"{row['id']}: {what} as {obj.get('id')!r} ({where}) but different labels: "
                    f"imported {_describe(row)}; corpus {_describe(obj)}"
                )
                break
    return out


def write_rows(rows: Sequence[dict[str, Any]], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
