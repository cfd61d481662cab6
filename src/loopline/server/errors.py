"""The one place that maps loopline error codes to HTTP statuses.

Every error answer has the same body: ``{"error": {"code", "message", "details"}}``; the remote
client turns it back into the same exception class.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from loopline.errors import LooplineError

__all__ = ["STATUS_BY_CODE", "error_response", "install_error_handlers"]

STATUS_BY_CODE = {
    "INVALID_ARGUMENT": 400,
    "INVALID_FILTER": 400,
    "UNSAFE_PATH": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "CONFLICT": 409,
    "INVALID_STATE": 409,
    "MISSING_DEPENDENCY": 501,
    "CONNECTION_FAILED": 502,
    "STORAGE_ERROR": 503,
}
_HTTP_CODES = {404: "NOT_FOUND", 405: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED"}


def error_response(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details}}
    return JSONResponse(body, status_code=status)


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    return ".".join(parts) or "body"


async def _loopline_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, LooplineError)
    status = STATUS_BY_CODE.get(exc.code, 500)
    return error_response(status, exc.code, exc.message, **exc.details)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{_location(tuple(err.get('loc', ())))}: {err.get('msg', 'invalid')}"
        for err in exc.errors()
    ]
    fields = [_location(tuple(err.get("loc", ()))) for err in exc.errors()]
    message = "Invalid request: " + "; ".join(problems)
    return error_response(422, "INVALID_ARGUMENT", message, fields=fields)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "INVALID_ARGUMENT")
    return error_response(exc.status_code, code, str(exc.detail))


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    return error_response(500, "INTERNAL", f"Internal error: {type(exc).__name__}")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(LooplineError, _loopline_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
