"""Every error the service returns, in the OpenAI envelope with its real HTTP status.

`{"error": {"message", "type", "param", "code"}}`: the openai client raises its matching
exception class (BadRequestError, NotFoundError, ...) with the message. The message is one line a
caller can act on; a stack trace never leaves the server (it goes to the server's log).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from rag.errors import ArticleNotFound, InputError, LLMError, RagError, StoreError
from rag.stories.reader import StoryNotFound
from rag.safe_output import redact

log = logging.getLogger("service")

_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
          404: "not_found_error", 413: "invalid_request_error", 422: "invalid_request_error",
          500: "server_error", 502: "server_error", 503: "server_error"}


def envelope(status: int, message: str, *, code: str | None = None, param: str | None = None) -> dict:
    return {"error": {"message": message, "type": _TYPES.get(status, "invalid_request_error"), "param": param,
                      "code": code}}


def error_response(status: int, message: str, *, code: str | None = None, param: str | None = None,
                   headers: dict | None = None) -> JSONResponse:
    return JSONResponse(envelope(status, message, code=code, param=param), status_code=status, headers=headers)


def rag_error_status(exc: RagError) -> tuple[int, str]:
    if isinstance(exc, ArticleNotFound):
        return 404, "article_not_found"
    if isinstance(exc, StoryNotFound):
        return 404, "story_not_found"
    if isinstance(exc, InputError):
        return 400, "invalid_input"
    if isinstance(exc, LLMError):
        return 502, "llm_unavailable"
    if isinstance(exc, StoreError):
        return 503, "store_unavailable"
    return 500, "error"


def install(app: FastAPI, secret: str | None) -> None:
    """Exception handlers for the API app (`secret`, the LLM's API key, is never echoed)."""

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        first = errors[0] if errors else {}
        if first.get("type") == "json_invalid":
            return error_response(400, f"malformed JSON in the request body: {first.get('ctx', {}).get('error', 'invalid')}",
                                  code="malformed_json")
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        param = ".".join(loc) or None
        message = first.get("msg", "invalid request")
        return error_response(422, f"{param}: {message}" if param else message, code="invalid_value", param=param)

    @app.exception_handler(RagError)
    async def rag_error(request: Request, exc: RagError):
        status, code = rag_error_status(exc)
        return error_response(status, redact(exc, secret), code=code)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return error_response(exc.status_code, str(exc.detail), code=None, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error (the server log has the details)", code="internal_error")
