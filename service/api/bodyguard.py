"""Check the key and the size of a request before its body is read.

Without this, FastAPI parses a body (and spools an upload to disk) before any dependency runs:
an 800 MiB upload without a key wrote an 835 MB temporary file before its 401, and a 300 MiB
JSON body took the server from 310 MB to 1.1 GB. So, as pure ASGI, before the app runs:

* a write to `/v1/...` (any method but GET, HEAD, OPTIONS) needs a valid `admin` key — every
  API write does — and is answered 401 or 403 without reading a byte of its body;
* a declared `Content-Length` over the limit is answered 413 at once;
* the bytes actually received are counted (chunked bodies, lying lengths) and the request is
  answered 413 as soon as they pass the limit; the rest is never read.

Limits: uploads `SAHELCAST_API_UPLOAD_MAX_MB` (plus room for the multipart framing), every
other body `SAHELCAST_API_BODY_MAX_KB`.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.api.deps import admin_principal
from service.api.problems import ProblemError
from service.config import Settings

UPLOAD_PATHS = frozenset({"/v1/admin/uploads"})
# The multipart boundaries, part headers and small form fields around the uploaded file.
MULTIPART_ALLOWANCE = 1 << 20
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


class BodyTooLarge(Exception):
    """Raised into the app's body reader once the received bytes pass the limit."""


def body_limit(settings: Settings, path: str) -> int:
    """The largest body, in bytes, accepted at `path`."""
    if path in UPLOAD_PATHS:
        return settings.api_upload_max_mb * 2**20 + MULTIPART_ALLOWANCE
    return settings.api_body_max_kb * 2**10


def _too_large(request: Request, limit: int) -> ProblemError:
    if request.url.path in UPLOAD_PATHS:
        return ProblemError(
            413,
            f"The upload is larger than {limit // 2**20} MB (SAHELCAST_API_UPLOAD_MAX_MB, "
            "plus room for the form framing).",
            slug="file-too-large",
        )
    return ProblemError(
        413,
        f"The request body is larger than {limit // 2**10} KB (SAHELCAST_API_BODY_MAX_KB).",
        slug="body-too-large",
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # no `receive`: nothing here can read the body
        settings: Settings = scope["app"].state.settings
        limit = body_limit(settings, request.url.path)
        try:
            if request.method not in _NO_BODY and request.url.path.startswith("/v1/"):
                _check_admin(request)
            declared = _declared_length(scope)
            if declared is not None and declared > limit:
                raise _too_large(request, limit)
        except ProblemError as problem:
            await _answer(request, problem, scope, receive, send)
            return
        except DBAPIError:
            await _answer(request, _unavailable(), scope, receive, send)
            return
        await self._counted(scope, receive, send, request, limit)

    async def _counted(
        self, scope: Scope, receive: Receive, send: Send, request: Request, limit: int
    ) -> None:
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                return  # the app's answer to a cut-off body (400, 500) is replaced by the 413
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass  # the app did not catch it: answered below
        if exceeded and not started:
            await _answer(request, _too_large(request, limit), scope, receive, send)


def _check_admin(request: Request) -> None:
    app = request.scope["app"]
    with app.state.read_engine.connect() as connection:
        admin_principal(request, connection)


def _unavailable() -> ProblemError:
    return ProblemError(
        503,
        "The database is unavailable; retry shortly.",
        slug="database-unavailable",
        title="Database unavailable",
        headers={"Retry-After": "1"},
    )


async def _answer(
    request: Request, problem: ProblemError, scope: Scope, receive: Receive, send: Send
) -> None:
    # The body is left unread: the server closes the connection after this answer.
    headers = {**(problem.headers or {}), "Connection": "close"}
    response = problem.response(request, headers=headers)
    await response(scope, receive, send)
