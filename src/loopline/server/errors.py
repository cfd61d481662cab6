"""The one place that maps loopline error codes to HTTP statuses.

Every error answer has the same body: ``{"error": {"code", "message", "details"}}``; the remote
client turns it back into the same exception class.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from loopline.errors import LooplineError
from loopline.wire import STATUS_BY_CODE

__all__ = ["STATUS_BY_CODE", "error_response", "install_error_handlers"]

_logger = logging.getLogger("loopline.server")
_HTTP_CODES = {404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}


def error_response(status: int, code: str, message: str, /, **details: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _loopline_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LooplineError)
    status = STATUS_BY_CODE.get(exc.code, 500)
    return error_response(status, exc.code, exc.message, **exc.details)


def _problem(err: dict[str, Any]) -> tuple[str, str]:
    """The field an input error is about and what is wrong with it."""
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "json_invalid":  # loc is ("body", <character offset>), not a field
        reason = (err.get("ctx") or {}).get("error") or "JSON decode error"
        return "body", f"not valid JSON ({reason} at character {loc[-1] if loc else 0})"
    return _location(loc), str(err.get("msg", "invalid"))


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    found = [_problem(err) for err in exc.errors()]
    problems = [f"{field}: {what}" for field, what in found]
    fields = [field for field, _ in found]
    message = "Invalid request: " + "; ".join(problems)
    return error_response(422, "INVALID_ARGUMENT", message, fields=fields)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "INVALID_ARGUMENT")
    return error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return _unexpected_response(exc)


class _InternalErrors:
    """Answer an unexpected exception with the 500 envelope, log it, and keep the connection.

    Starlette's outermost error middleware re-raises after answering, and uvicorn then closes the
    connection: a client's next request on that keep-alive connection would fail to connect.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            _logger.exception("Unexpected error in %s %s", scope["method"], scope["path"])
            await _unexpected_response(exc)(scope, receive, send)


def _unexpected_response(exc: Exception) -> JSONResponse:
    return error_response(500, "INTERNAL", f"Internal error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LooplineError, _loopline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.add_middleware(_InternalErrors)
