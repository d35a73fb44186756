"""Keys and exposure: who may call /v1 and /mcp, where the server may listen, how big a body may be.

- Keys come from RAG_API_KEYS (comma-separated) and/or a key file (one key per line, `#`
  comments). With any key set, /v1 and /mcp need `Authorization: Bearer KEY`; a key is compared
  with every configured key in constant time (`hmac.compare_digest`), so timing says nothing
  about how much of a key was right. A missing or wrong key gets 401 with `WWW-Authenticate`.
- /healthz and the UI's own login (`--auth`) are outside this; `rag mcp` over stdio is a local
  process and needs no key.
- With no key, the server listens on loopback only (`check_exposure`).
- Request bodies under /v1 are capped: a declared Content-Length over the cap gets 413 (uvicorn
  holds a body to its declared length), a chunked body without one gets 411.
- Keys never reach a log: nothing here logs a header, and uvicorn's access log has none.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from pathlib import Path

from rag.errors import InputError
from service.errors import envelope

PROTECTED = ("/v1", "/mcp")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")
CHALLENGE = 'Bearer realm="newsground"'


def load_keys(env_value: str | None, key_file: Path | None) -> tuple[str, ...]:
    """The configured API keys (empty: no key needed)."""
    keys = [k.strip() for k in (env_value or "").split(",")]
    if key_file is not None:
        try:
            lines = Path(key_file).read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read the API key file {key_file}: {exc.strerror or exc}") from None
        keys += [line.strip() for line in lines if not line.strip().startswith("#")]
    keys = tuple(k for k in keys if k)
    if any(len(k) < 16 for k in keys):
        raise InputError("every API key must be at least 16 characters (e.g. `python -c 'import secrets; "
                         "print(secrets.token_urlsafe(32))'`)")
    return keys


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(host: str, keys: tuple[str, ...], ui_auth: bool, ui: bool) -> None:
    """Refuse to listen beyond loopback without keys (and, with the UI on, without its login)."""
    if is_loopback(host):
        return
    if not keys:
        raise InputError(f"refusing to listen on {host} without an API key: set RAG_API_KEYS or --api-key-file "
                         "(or listen on 127.0.0.1)")
    if ui and not ui_auth:
        raise InputError(f"refusing to serve the UI on {host} without a login: set --auth USER:PASSWORD "
                         "(or RAG_UI_AUTH), or pass --no-ui")


def key_matches(header: str | None, keys: tuple[str, ...]) -> bool:
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    supplied = token.strip().encode()
    matched = False
    for key in keys:  # every key is compared, so the time taken does not depend on which matched
        matched |= hmac.compare_digest(supplied, key.encode())
    return matched


def _json(status: int, body: dict, headers: list[tuple[bytes, bytes]] = ()):
    data = json.dumps(body).encode()
    start = {"type": "http.response.start", "status": status,
             "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
                         *headers]}
    return start, {"type": "http.response.body", "body": data}


class Guard:
    """ASGI middleware: API keys on /v1 and /mcp, and the body cap on /v1."""

    def __init__(self, app, keys: tuple[str, ...], max_body: int):
        self.app = app
        self.keys = keys
        self.max_body = max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not any(_under(scope["path"], p) for p in PROTECTED):
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.keys and not key_matches(headers.get(b"authorization", b"").decode("latin-1"), self.keys):
            message = ("a valid API key is required: send Authorization: Bearer KEY"
                       if b"authorization" not in headers else "the API key is not valid")
            for event in _json(401, envelope(401, message, code="invalid_api_key"),
                               [(b"www-authenticate", CHALLENGE.encode())]):
                await send(event)
            return
        if not _under(scope["path"], "/v1"):  # MCP caps its own bodies (4 MiB)
            return await self.app(scope, receive, send)
        length = headers.get(b"content-length")
        if length is None and b"transfer-encoding" in headers:
            # A chunked body has no declared size to check; the server enforces a declared one.
            for event in _json(411, envelope(411, "send the request body with a Content-Length", code="length_required")):
                await send(event)
            return
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return await self._too_large(send)
        return await self.app(scope, receive, send)

    async def _too_large(self, send):
        message = f"the request body is larger than the limit of {self.max_body} bytes"
        for event in _json(413, envelope(413, message, code="body_too_large")):
            await send(event)
