"""One error shape for every failure: ``{"error": {"code": ..., "message": ...}}``.

| code                    | status | when                                                  |
| ----------------------- | ------ | ----------------------------------------------------- |
| host_not_allowed        | 400    | the Host header is not in NETRAL_ALLOWED_HOSTS        |
| validation_error        | 422    | a body or parameter is malformed (not JSON, invalid UTF-8, too deep, wrong type) or over a limit |
| need_category           | 422    | a page confirmation with no category ticked           |
| url_invalid             | 422    | not an http(s) URL, or one with credentials           |
| url_blocked             | 422    | host unknown, not public, port refused or not answering |
| url_no_text             | 422    | the page has no article text                          |
| unauthorized            | 401    | API keys are configured and none matched              |
| csrf_failed             | 403    | a page form without a valid token or from elsewhere   |
| cross_origin            | 403    | an API call from a browser page of another origin     |
| not_found               | 404    | no such route or queue item                           |
| method_not_allowed      | 405    |                                                       |
| already_decided         | 409    | the queue item was decided by someone else first      |
| body_timeout            | 408    | the request body did not arrive within the read timeout |
| body_too_large          | 413    | the request body is over the cap                      |
| text_too_long           | 413    | a text is over the text limit (limits.MAX_TEXT_CHARS) |
| unsupported_media_type  | 415    | an API POST whose body is not application/json        |
| url_http_status         | 502    | the page answered an HTTP error                       |
| url_content_type        | 502    | the page is not HTML or text                          |
| url_too_large           | 502    | the page is over the size cap once decoded            |
| url_redirects           | 502    | more redirects than allowed                           |
| url_unreadable          | 502    | the page's server broke the protocol                  |
| overloaded              | 503    | past the concurrency limit; Retry-After says when     |
| url_timeout             | 504    | the page did not arrive before the deadline           |
| internal_error          | 500    | a bug; logged with its traceback, never the request   |
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("netral_nlp.api")

STATUS: dict[str, int] = {
    "host_not_allowed": 400,
    "validation_error": 422,
    "need_category": 422,
    "url_invalid": 422,
    "url_blocked": 422,
    "url_no_text": 422,
    "unauthorized": 401,
    "csrf_failed": 403,
    "cross_origin": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "already_decided": 409,
    "body_timeout": 408,
    "body_too_large": 413,
    "text_too_long": 413,
    "unsupported_media_type": 415,
    "url_http_status": 502,
    "url_content_type": 502,
    "url_too_large": 502,
    "url_redirects": 502,
    "url_unreadable": 502,
    "overloaded": 503,
    "url_timeout": 504,
    "internal_error": 500,
}
_BY_STATUS = {
    # FastAPI's own 400: a body json.loads refused with something other than a syntax
    # error (invalid UTF-8, an integer over 4300 digits, nesting past the recursion limit).
    400: "validation_error",
    404: "not_found",
    405: "method_not_allowed",
    401: "unauthorized",
    413: "body_too_large",
}


class ApiError(Exception):
    """An answer other than success; the status comes from the code."""

    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS[code]
        self.headers = headers


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def error_response(code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message), status_code=STATUS[code], headers=headers)


def validation_message(errors: list[Any]) -> str:
    """Where and what, never the submitted value (it may be a long or personal text)."""
    parts = []
    for err in errors[:5]:
        if err.get("type") == "json_invalid":
            parts.append("body: not valid JSON")
            continue
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.code, exc.message, exc.headers)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    over = [e for e in errors if e.get("type") == "text_too_long"]
    if over:
        return error_response("text_too_long", validation_message(over))
    return error_response("validation_error", validation_message(errors))


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _BY_STATUS.get(
        exc.status_code, "validation_error" if exc.status_code < 500 else "internal_error"
    )
    if exc.status_code == 400:
        return error_response(
            code, "body: not valid JSON (invalid UTF-8, a number too long or nesting too deep)"
        )
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(error_body(code, message), status_code=exc.status_code, headers=exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response("internal_error", "an unexpected error occurred; it was logged")


def install(app: FastAPI) -> None:
    """Route every exception to the one error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
