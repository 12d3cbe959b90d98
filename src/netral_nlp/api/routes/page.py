"""The monitors' page: server-rendered HTML forms (they work without JavaScript).

Every state change is a POST that carries the CSRF token and comes from this origin.
When API keys are configured the page asks for one once and keeps it in an HttpOnly
cookie. Texts are rendered by Jinja with autoescaping; highlights are built from
segments, never from HTML strings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from ...labels import CATEGORY_NAMES, display_name
from ...prediction import SPAN_KINDS
from ..errors import ApiError
from ..highlight import segments
from ..i18n import LANGS, error_text, number, strings
from ..queue import MAX_OFFSET, STATUSES, Decision, QueueError
from ..schemas import (
    MAX_NOTE_CHARS,
    MAX_REVIEWER_CHARS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    ScoreRow,
)
from ..scoring import Scorer, TextItem
from ..security import CSRF_COOKIE, KEY_COOKIE, check_form, new_csrf_token

LANG_COOKIE = "netral_lang"
REVIEWER_COOKIE = "netral_reviewer"
PAGE_SIZE = 50
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

templates = Jinja2Templates(directory=Path(__file__).resolve().parent.parent / "templates")
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """The page needs an API key and the browser has none (or a wrong one)."""


def install(app: FastAPI) -> None:
    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse(request.url_for("login_form"), status_code=303)

    app.add_exception_handler(LoginRequired, to_login)


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE, "id")
    return lang if lang in LANGS else "id"


def _who(request: Request) -> str | None:
    """The reviewer named by the browser's key cookie; None when keys are off."""
    keys = request.app.state.api_keys
    if not keys.enabled:
        return None
    name = keys.match(request.cookies.get(KEY_COOKIE))
    if name is None:
        raise LoginRequired
    return name


def _scorer(request: Request) -> Scorer:
    return request.app.state.scorer


def _render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
    lang = _lang(request)
    csrf = request.cookies.get(CSRF_COOKIE) or new_csrf_token()
    t = strings(lang)
    base = {
        "lang": lang,
        "t": t,
        "csrf": csrf,
        "categories": [(c, display_name(c, lang)) for c in CATEGORY_NAMES],
        "cat_name": lambda c: display_name(c, lang) if c in CATEGORY_NAMES else c,
        "other_lang": "en" if lang == "id" else "id",
        "keys_enabled": request.app.state.api_keys.enabled,
        "limits": {"text": MAX_TEXT_CHARS, "url": MAX_URL_CHARS},
    }
    response = templates.TemplateResponse(request, name, base | context, status_code=status)
    secure = request.url.scheme == "https"
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", secure=secure)
    if request.query_params.get("lang") in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", secure=secure)
    response.headers.update(SECURITY_HEADERS)
    return response


def _error_page(request: Request, name: str, exc: ApiError, context: dict[str, Any]) -> Response:
    message = error_text(_lang(request), exc.code, exc.message)
    response = _render(request, name, context | {"error": message}, status=exc.status)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def _result(row: ScoreRow, text: str, scorer: Scorer) -> dict[str, Any]:
    thresholds = scorer.classifier.manifest.thresholds
    spans = [s.model_dump() for s in row.evidence_spans]
    return {
        "row": row,
        "segments": segments(text, spans),
        "kinds": [k for k in SPAN_KINDS if any(s["kind"] == k for s in spans)],
        "threshold": thresholds.get("flag", 0.5),
    }


@router.get("/", response_class=HTMLResponse, name="index")
async def index(request: Request) -> Response:
    _who(request)
    return _render(request, "index.html", {"form": {"queue": True}})


@router.post("/", response_class=HTMLResponse)
async def check(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    text: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    author_context: Annotated[str, Form()] = "",
    queue: Annotated[str, Form()] = "",
) -> Response:
    """Score the pasted text or the URL and show the answer under the form."""
    _who(request)
    form = {"text": text, "url": url, "author_context": author_context, "queue": bool(queue)}
    scorer = _scorer(request)
    t = strings(_lang(request))
    try:
        check_form(request, csrf, request.app.state.settings)
        text = text if text.strip() else ""
        url, author = url.strip(), author_context.strip() or None
        if bool(text) == bool(url):
            message = t["both_input"] if text and url else t["need_input"]
            return _render(request, "index.html", {"form": form, "error": message}, status=422)
        if len(url) > MAX_URL_CHARS:
            return _render(
                request, "index.html", {"form": form, "error": t["e_url_invalid"]}, status=422
            )
        if len(text) > MAX_TEXT_CHARS or len(author or "") > MAX_TEXT_CHARS:
            message = t["e_too_long"].format(n=number(_lang(request), MAX_TEXT_CHARS))
            return _render(request, "index.html", {"form": form, "error": message}, status=413)
        row: ScoreRow
        if url:
            row = await scorer.score_url(url, author, None, bool(queue))
            shown = row.text
        else:
            row = await scorer.score_one(TextItem(None, text, author, bool(queue)))
            shown = text
    except ApiError as exc:
        return _error_page(request, "index.html", exc, {"form": form})
    return _render(request, "index.html", {"form": form, "result": _result(row, shown, scorer)})


@router.get("/queue", response_class=HTMLResponse, name="queue")
async def queue_view(
    request: Request,
    status: Annotated[str, Query()] = "pending",
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    done: Annotated[str, Query()] = "",
) -> Response:
    """The review queue: one card per item, with decision forms while pending."""
    _who(request)
    status = status if status in STATUSES else "pending"
    return await _queue_page(request, status, offset, done)


async def _queue_page(
    request: Request, status: str, offset: int, done: str = "", error: ApiError | None = None
) -> Response:
    scorer = _scorer(request)

    def read() -> tuple[list[Any], dict[str, int]]:
        return scorer.queue.items(status, PAGE_SIZE, offset), scorer.queue.counts()

    items, counts = await anyio.to_thread.run_sync(read)
    context = {
        "status": status,
        "cards": [(item, segments(item.text, item.evidence_spans)) for item in items],
        "counts": counts,
        "offset": offset,
        "next_offset": offset + PAGE_SIZE if len(items) == PAGE_SIZE else None,
        "done": done if done in ("confirmed", "dismissed") else "",
        "reviewer": request.cookies.get(REVIEWER_COOKIE, ""),
        "threshold": scorer.classifier.manifest.thresholds.get("flag", 0.5),
    }
    if error is not None:
        return _error_page(request, "queue.html", error, context)
    return _render(request, "queue.html", context)


@router.post("/queue/{item_id}", response_class=HTMLResponse)
async def decide(
    request: Request,
    item_id: str,
    csrf: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    categories: Annotated[list[str], Form()] = [],  # noqa: B006 (FastAPI copies defaults)
    note: Annotated[str, Form()] = "",
    reviewer: Annotated[str, Form()] = "",
) -> Response:
    """Confirm (with the ticked categories) or dismiss one item, then back to the queue."""
    who = _who(request)
    reviewer = reviewer.strip()[:MAX_REVIEWER_CHARS]
    try:
        check_form(request, csrf, request.app.state.settings)
        if decision == "confirmed" and not categories:
            raise ApiError("need_category", "tick at least one category to confirm")
        result = Decision(
            decision=decision,
            reviewer=who or reviewer or "anonymous",
            # Checkboxes stay ticked on a dismissal; only a confirmation has categories.
            categories=[c for c in CATEGORY_NAMES if c in categories and decision == "confirmed"],
            note=note.strip()[:MAX_NOTE_CHARS] or None,
        )
        try:
            await anyio.to_thread.run_sync(_scorer(request).queue.decide, item_id, result)
        except QueueError as exc:
            raise ApiError(exc.code, exc.message) from None
    except ApiError as exc:
        return await _queue_page(request, "pending", 0, error=exc)
    target = request.url_for("queue").include_query_params(status="pending", done=decision)
    response = RedirectResponse(str(target), status_code=303)
    if reviewer and not who:
        response.set_cookie(
            REVIEWER_COOKIE, reviewer, max_age=365 * 86400, samesite="strict", httponly=True
        )
    return response


@router.get("/login", response_class=HTMLResponse, name="login_form")
async def login_form(request: Request) -> Response:
    return _render(request, "login.html", {})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    csrf: Annotated[str, Form()] = "",
    key: Annotated[str, Form()] = "",
) -> Response:
    try:
        check_form(request, csrf, request.app.state.settings)
        if request.app.state.api_keys.match(key) is None:
            raise ApiError("unauthorized", "wrong API key")
    except ApiError as exc:
        return _error_page(request, "login.html", exc, {})
    response = RedirectResponse(str(request.url_for("index")), status_code=303)
    response.set_cookie(
        KEY_COOKIE, key, httponly=True, samesite="strict", secure=request.url.scheme == "https"
    )
    return response
