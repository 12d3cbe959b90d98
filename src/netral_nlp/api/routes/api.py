"""The JSON API: thin routes that validate, call the scorer or the queue, and answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from ...labels import CATEGORY_NAMES, display_name
from ..errors import STATUS, ApiError
from ..queue import MAX_OFFSET, MAX_PAGE, Decision, QueueError
from ..schemas import (
    BatchRequest,
    BatchResponse,
    DecisionRequest,
    ErrorBody,
    Health,
    ModelInfo,
    QueueItemOut,
    QueueList,
    ScoreRequest,
    ScoreRow,
    UrlScoreRow,
)
from ..scoring import Scorer, TextItem
from ..security import check_api_origin, check_json, supplied_key
from ..settings import Settings

# Every status a route can answer is in its OpenAPI entry (errors.py has the table).
ANY_ROUTE = ("host_not_allowed", "internal_error")
V1 = (*ANY_ROUTE, "unauthorized")
JSON_POST = (
    *V1,
    "validation_error",
    "cross_origin",
    "body_timeout",
    "body_too_large",
    "unsupported_media_type",
)
URL_ERRORS = (
    "url_invalid",
    "url_blocked",
    "url_no_text",
    "url_http_status",
    "url_content_type",
    "url_too_large",
    "url_redirects",
    "url_unreadable",
    "url_timeout",
)


def _errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error codes: one entry per status naming its codes."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in sorted(set(codes), key=lambda c: (STATUS[c], c)):
        entry = out.setdefault(STATUS[code], {"model": ErrorBody, "description": ""})
        entry["description"] = ", ".join(filter(None, [entry["description"], code]))
    return out


# Dependencies are async although they never await: FastAPI runs a plain `def` dependency
# in the thread pool, a thread hop per dependency per request (~0.25 ms each).
async def scorer(request: Request) -> Scorer:
    return request.app.state.scorer


async def settings(request: Request) -> Settings:
    return request.app.state.settings


async def caller(request: Request) -> str | None:
    """The reviewer name of the caller's API key; None when keys are not configured."""
    keys = request.app.state.api_keys
    if not keys.enabled:
        return None
    name = keys.match(supplied_key(request))
    if name is None:
        raise ApiError(
            "unauthorized", "a valid API key is required", headers={"WWW-Authenticate": "Bearer"}
        )
    return name


async def json_post(request: Request, s: Annotated[Settings, Depends(settings)]) -> None:
    check_api_origin(request, s)
    check_json(request)


ScorerDep = Annotated[Scorer, Depends(scorer)]
CallerDep = Annotated[str | None, Depends(caller)]

health_router = APIRouter()
router = APIRouter(prefix="/v1", dependencies=[Depends(caller)])
posts = [Depends(json_post)]


@health_router.get(
    "/healthz", response_model=Health, tags=["service"], responses=_errors(*ANY_ROUTE)
)
async def healthz(request: Request) -> dict[str, str]:
    """200 once the model is loaded (the app does not start without one)."""
    return {"status": "ok", "model": request.app.state.scorer.model_id}


@router.post(
    "/score",
    dependencies=posts,
    tags=["scoring"],
    responses={
        200: {
            "model": ScoreRow | UrlScoreRow,
            "description": "The row; for a URL also url, title, date and text.",
            "links": {
                "QueuedItem": {
                    "operationId": "queue_item",
                    "parameters": {"item_id": "$response.body#/queue_id"},
                },
                "DecideQueuedItem": {
                    "operationId": "decide",
                    "parameters": {"item_id": "$response.body#/queue_id"},
                },
            },
        },
        **_errors(*JSON_POST, *URL_ERRORS, "text_too_long", "overloaded"),
    },
)
async def score(body: ScoreRequest, scorer: ScorerDep) -> Response:
    """Score one text, or fetch a page and score its main text."""
    row: ScoreRow
    if body.url is not None:
        row = await scorer.score_url(body.url, body.author_context, body.id, body.queue)
    else:
        row = await scorer.score_one(
            TextItem(body.id, body.text or "", body.author_context, body.queue)
        )
    return _json(row)


@router.post(
    "/score/batch",
    dependencies=posts,
    tags=["scoring"],
    responses={
        200: {"model": BatchResponse},
        **_errors(*JSON_POST, "text_too_long", "overloaded"),
    },
)
async def score_batch(body: BatchRequest, scorer: ScorerDep) -> Response:
    """Score up to 256 texts; rows come back in request order."""
    items = [TextItem(i.id, i.text, i.author_context, body.queue) for i in body.items]
    return _json(BatchResponse(rows=await scorer.score_texts(items)))


def _json(body: BaseModel) -> Response:
    """A schema instance as JSON (pydantic's serializer: no second validation)."""
    return Response(body.model_dump_json(), media_type="application/json")


@router.get("/model", response_model=ModelInfo, tags=["service"], responses=_errors(*V1))
async def model_info(scorer: ScorerDep) -> dict[str, Any]:
    """The loaded model's manifest: what it is, its thresholds and its test metrics."""
    m = scorer.classifier.manifest
    return {
        "name": m.name,
        "version": m.version,
        "kind": m.kind,
        "thresholds": m.thresholds,
        "categories": list(m.categories),
        "category_names": {
            c: {"id": display_name(c, "id"), "en": display_name(c, "en")} for c in CATEGORY_NAMES
        },
        "metrics": m.metrics,
    }


@router.get(
    "/queue",
    response_model=QueueList,
    tags=["review queue"],
    responses=_errors(*V1, "validation_error"),
)
async def queue_list(
    scorer: ScorerDep,
    status: Literal["pending", "confirmed", "dismissed"] = "pending",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> dict[str, Any]:
    """Queued items of one status: pending oldest first, decided newest first."""

    def read() -> dict[str, Any]:
        items = scorer.queue.items(status, limit, offset)
        return {
            "status": status,
            "counts": scorer.queue.counts(),
            "items": [i.public() for i in items],
        }

    return await anyio.to_thread.run_sync(read)


@router.get(
    "/queue/{item_id}",
    response_model=QueueItemOut,
    operation_id="queue_item",
    tags=["review queue"],
    responses=_errors(*V1, "validation_error", "not_found"),  # 422: the one shape, not FastAPI's
)
async def queue_item(item_id: str, scorer: ScorerDep) -> dict[str, Any]:
    try:
        item = await anyio.to_thread.run_sync(scorer.queue.get, item_id)
    except QueueError as exc:
        raise ApiError(exc.code, exc.message) from None
    return item.public()


@router.post(
    "/queue/{item_id}/decision",
    response_model=QueueItemOut,
    operation_id="decide",
    dependencies=posts,
    tags=["review queue"],
    responses=_errors(*JSON_POST, "not_found", "already_decided", "overloaded"),
)
async def decide(
    item_id: str, body: Annotated[DecisionRequest, Body()], scorer: ScorerDep, who: CallerDep
) -> dict[str, Any]:
    """Confirm (optionally correcting the categories) or dismiss a queued item, once."""
    decision = Decision(
        decision=body.decision,
        reviewer=who or body.reviewer or "anonymous",
        categories=list(body.categories),
        note=body.note,
        partisan=body.partisan,
        asn=body.asn,
    )
    return (await decide_item(scorer, item_id, decision)).public()


async def decide_item(scorer: Scorer, item_id: str, decision: Decision) -> Any:
    """Record a decision off the event loop; queue errors become API errors."""
    try:
        return await anyio.to_thread.run_sync(scorer.queue.decide, item_id, decision)
    except QueueError as exc:
        headers = {"Retry-After": "1"} if exc.code == "overloaded" else None
        raise ApiError(exc.code, exc.message, headers=headers) from None
