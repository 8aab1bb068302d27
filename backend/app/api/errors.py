"""Exception handlers: every error body is JSON with `detail`, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.services.errors import Conflict, Forbidden, InvalidItems, NotFound, ServiceError

logger = logging.getLogger("app")

_STATUS = {
    NotFound: status.HTTP_404_NOT_FOUND,
    Conflict: status.HTTP_409_CONFLICT,
    Forbidden: status.HTTP_403_FORBIDDEN,
}


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    # The offending input is not echoed back: it may be a password, or the whole body.
    cleaned = {key: value for key, value in error.items() if key not in ("input", "url")}
    if "ctx" in cleaned:
        cleaned["ctx"] = {
            key: value if isinstance(value, str | int | float | bool | None) else str(value)
            for key, value in cleaned["ctx"].items()
        }
    return cleaned


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_clean(dict(error)) for error in exc.errors()]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": jsonable_encoder(errors)},
    )


async def _invalid_items(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidItems)
    errors = [_clean(error) for error in exc.errors]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": jsonable_encoder(errors)},
    )


async def _service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    code = next(
        (code for cls, code in _STATUS.items() if isinstance(exc, cls)),
        status.HTTP_400_BAD_REQUEST,
    )
    content: dict[str, Any] = {"detail": exc.message}
    if exc.indexes is not None:
        content["indexes"] = exc.indexes
    if exc.ids is not None:
        content["ids"] = exc.ids
    return JSONResponse(status_code=code, content=content)


async def _integrity_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, IntegrityError)
    # The database's own message (which constraint failed), not SQLAlchemy's: that one carries
    # the statement's parameters, a password hash among them when the row is a user's.
    logger.warning(
        "Integrity error on %s %s: %s: %s",
        request.method,
        request.url.path,
        type(exc.orig).__name__,
        exc.orig,
    )
    return JSONResponse(
        status_code=status.HTTP_409_CONFLICT,
        content={"detail": "The change conflicts with existing data; nothing was written"},
    )


async def _http_error(request: Request, exc: Exception) -> Any:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST and isinstance(exc.__cause__, RecursionError):
        # FastAPI answers a body too deep for the JSON parser with a bare 400; it is invalid
        # JSON input like any other, so it gets the same 422 shape, naming the body.
        error = {"type": "json_too_deep", "loc": ["body"], "msg": "JSON body nests too deeply"}
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": [error]}
        )
    return await http_exception_handler(request, exc)


def install_exception_handlers(app: FastAPI) -> None:
    """Handlers for the errors the app expects. Anything else is answered by
    `InternalErrorMiddleware` (a JSON 500): a handler for `Exception` would never run, since
    Starlette gives it to its outermost middleware, outside ours."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(InvalidItems, _invalid_items)
    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
