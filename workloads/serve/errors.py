"""OpenAI-shaped errors: every failure a client can cause gets ``{"error": {...}}`` and a 4xx.

FastAPI and Starlette answer some failures themselves (unknown route, wrong method, their own
validation) with other shapes; ``install_error_handlers`` replaces all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from workloads.serve.schemas import ErrorDetail, ErrorResponse

log = logging.getLogger(__name__)

INVALID_REQUEST = "invalid_request_error"


class APIError(Exception):
    """An error response: status, OpenAI error fields and extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = INVALID_REQUEST,
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.detail = ErrorDetail(message=message, type=error_type, param=param, code=code)
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = ErrorResponse(error=self.detail).model_dump(mode="json")
        return JSONResponse(body, status_code=self.status, headers=self.headers)


def internal_error() -> APIError:
    return APIError(
        500, "The server had an internal error.", error_type="server_error", code="internal_error"
    )


def from_validation_error(error: ValidationError | RequestValidationError) -> APIError:
    """The first problem of a validation error, named after the top-level parameter at fault."""
    first = error.errors()[0]
    location = [part for part in first["loc"] if part not in ("body", "query", "path")]
    param = str(location[0]) if location else None
    message = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        message = f"Missing required parameter '{param}'."
        return APIError(400, message, param=param, code="missing_required_parameter")
    code = "invalid_type" if str(first["type"]).endswith("_type") else "invalid_value"
    where = f"'{param}'" if param else "the request body"
    return APIError(400, f"Invalid value for {where}: {message}", param=param, code=code)


async def _api_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, APIError)
    return error.response()


async def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code)
    return APIError(error.status_code, str(error.detail), code=code, headers=error.headers).response()


async def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return from_validation_error(error).response()


async def _unexpected_error(_: Request, error: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=error)
    return internal_error().response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected_error)
