"""The guard in front of every request: body size, token, cross-origin writes.

* Request bodies are bounded (`max_body` bytes, 413 beyond): read fully here, then replayed.
* With a token configured (always, when bound to a non-loopback address), every request needs it:
  `Authorization: Bearer <token>`, or the `proxx_token` cookie that `/?token=<token>` sets.
* Without a token, only loopback host names are answered (`allowed_hosts`): a page elsewhere
  cannot reach a loopback server by pointing its own name at 127.0.0.1 (DNS rebinding).
* Unsafe methods from another origin are refused (403), by `Sec-Fetch-Site` and `Origin`, as
  browsers send them: a page elsewhere cannot post to the API. Page forms also carry a per-browser
  CSRF token (double-submit cookie), checked by `check_csrf`.
* Every response forbids framing (a Retry button under someone else's page), inline scripts and
  referrers to other sites (the first URL carries the token).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from proxx.jobspec.untrusted import nesting_exceeds
from proxx.web.problems import PROBLEM_MEDIA_TYPE, WebError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOKEN_COOKIE = "proxx_token"
CSRF_COOKIE = "proxx_csrf"
CSRF_FIELD = "csrf"
DEFAULT_MAX_BODY = 64 * 1024
MAX_BODY_DEPTH = 16  # a job's request nests 2 deep
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


def problem_response(error: WebError, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(
        error.problem().model_dump(), status_code=error.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        max_body: int = DEFAULT_MAX_BODY,
        allowed_hosts: frozenset[str] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.max_body = max_body
        self.allowed_hosts = allowed_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_security_headers(send)
        headers = Headers(scope=scope)
        refusal = self._refusal(scope, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await self._too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        total = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_body:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(body)
            more = bool(message.get("more_body"))
        refused = _body_problem(scope, headers, b"".join(chunks))
        if refused is not None:
            await problem_response(refused)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> Response:
        return problem_response(WebError(413, "request_too_large", f"Requests are limited to {self.max_body} bytes."))

    def _refusal(self, scope: Scope, headers: Headers) -> Response | None:
        if self.allowed_hosts is not None and _host_name(headers.get("host", "")) not in self.allowed_hosts:
            return problem_response(WebError(400, "host_not_allowed", "This server answers only to its own address."))
        if self.token is not None:
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
            offered = query.get("token")
            if offered is not None and secrets.compare_digest(offered.encode(), self.token.encode()):
                # Log in the browser: keep the token in a cookie and drop it from the address bar.
                rest = urlencode([(k, v) for k, v in query.items() if k != "token"])
                response = RedirectResponse(local_path(scope["path"]) + (f"?{rest}" if rest else ""), status_code=303)
                response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="strict")
                return response
            if not self._authorized(headers, Request(scope).cookies.get(TOKEN_COOKIE)):
                if "text/html" in headers.get("accept", "") and not scope["path"].startswith("/api"):
                    return HTMLResponse(_LOGIN_PAGE, status_code=401)
                return problem_response(
                    WebError(401, "token_required", "This server needs its access token (printed when it started)."),
                    {"WWW-Authenticate": "Bearer"},
                )
        if scope["method"] not in _SAFE_METHODS and _cross_origin(headers):
            return problem_response(WebError(403, "cross_origin", "Cross-origin requests may not change anything."))
        return None

    def _authorized(self, headers: Headers, cookie: str | None) -> bool:
        assert self.token is not None
        scheme, _, credentials = headers.get("authorization", "").partition(" ")
        offered = credentials if scheme.lower() == "bearer" else cookie
        return offered is not None and secrets.compare_digest(offered.encode(), self.token.encode())


_LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>proxx</title>
<meta name="color-scheme" content="light dark"><link rel="stylesheet" href="/static/style.css"></head><body><main>
<h1>proxx needs its access token</h1><p>Open the address <code>proxx serve</code> printed when it started
(it ends with <code>?token=...</code>), or ask whoever runs the server.</p></main></body></html>"""


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return sending


# Form fields that take several values; any other field given twice is refused, never "the last
# one wins": an operator selects ONE intent (the contract), on the page as with `--profile`.
_LISTS = frozenset({"sources"})


def _body_problem(scope: Scope, headers: Headers, body: bytes) -> WebError | None:
    """Why a write's body is refused before any route reads it: JSON nested deeper than
    MAX_BODY_DEPTH (checked before parsing: Python's parser recurses once a level, and a body of
    brackets overflowed its stack), or a field given twice."""
    if scope.get("method") in _SAFE_METHODS or not body:
        return None
    if not _is_json(headers) and _content_type(headers) != _FORM:  # multipart let a field given twice through
        return WebError(
            415,
            "unsupported_media_type",
            "A request's body is JSON (Content-Type: application/json), or a page's form "
            f"({_FORM}); nothing else is read.",
        )
    if _is_json(headers) and nesting_exceeds(body.decode("utf-8", "replace"), MAX_BODY_DEPTH):
        return WebError(422, "request_too_deep", f"The request nests more than {MAX_BODY_DEPTH} levels deep.")
    repeated = _repeated_field(headers, body)
    if repeated is not None:
        return WebError(422, "repeated_field", f"'{repeated}' was given more than once: choose one.")
    return None


_FORM = "application/x-www-form-urlencoded"


def _content_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";")[0].strip().lower()


def _is_json(headers: Headers) -> bool:
    """Whether the route will parse the body as JSON (FastAPI's rule: application/json or +json)."""
    kind = _content_type(headers)
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


def _repeated_field(headers: Headers, body: bytes) -> str | None:
    """The first field a write's body gives twice (a JSON object's key at any depth, or a form
    field other than a list's), else None. A body that does not parse is left to the route."""
    if _content_type(headers) == _FORM:
        seen: set[str] = set()
        for name, _ in parse_qsl(body.decode("latin-1"), keep_blank_values=True):
            if name in seen and name not in _LISTS:
                return name[:60]
            seen.add(name)
        return None
    if _is_json(headers):
        found: list[str] = []

        def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
            keys = [key for key, _ in items]
            found.extend(key for n, key in enumerate(keys) if key in keys[:n])
            return dict(items)

        try:
            json.loads(body, object_pairs_hook=pairs)
        except ValueError:
            return None
        return found[0][:60] if found else None
    return None


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


def loopback_hosts(bound: str) -> frozenset[str]:
    return frozenset({"127.0.0.1", "localhost", "::1", bound})


def _cross_origin(headers: Headers) -> bool:
    site = headers.get("sec-fetch-site")
    if site is not None:  # what the browser itself says; Origin is only the fallback for older ones
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False
    return origin == "null" or urlsplit(origin).netloc != headers.get("host")


def local_path(path: str) -> str:
    """`path` as a path on this server only: `//evil.example/x` and `/\\evil.example` would send a
    browser to another host."""
    return "/" + path.lstrip("/\\")


# Signs CSRF tokens: a cookie planted by someone else (e.g. from a sibling host) is not a valid token.
_CSRF_KEY = secrets.token_bytes(32)


def _signed(nonce: str) -> str:
    mac = hmac.new(_CSRF_KEY, nonce.encode(), hashlib.sha256).hexdigest()
    return f"{nonce}.{mac}"


def _valid(token: str | None) -> bool:
    if not token or "." not in token:
        return False
    return secrets.compare_digest(token.encode(), _signed(token.partition(".")[0]).encode())


def csrf_token(request: Request) -> tuple[str, bool]:
    """This browser's CSRF token, and whether it is new (then the page sets the cookie)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing is not None and _valid(existing):
        return existing, False
    return _signed(secrets.token_urlsafe(24)), True


def set_csrf_cookie(response: Response, token: str) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")


def check_csrf(request: Request, submitted: str | None) -> None:
    cookie = request.cookies.get(CSRF_COOKIE)
    if (
        cookie is None
        or not _valid(cookie)
        or not submitted
        or not secrets.compare_digest(cookie.encode(), submitted.encode())
    ):
        raise WebError(403, "csrf_failed", "The form expired or came from another site; reload the page and try again.")
