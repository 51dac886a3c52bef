"""The web view's app: routes, error pages and the headers every answer carries."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from baolaocai.errors import BaoLaoCaiError, InputError, WarehouseError
from web.context import STATIC_DIR, QueryTimeout, Web, WebConfig, web_of
from web.messages import is_reason_phrase, vietnamese

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

APP_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self';"
    " frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
"""Our own pages: nothing from anywhere else, no inline script. The archived page's
answer sets a stricter one of its own (a sandbox, no script at all)."""

SECURITY_HEADERS = (
    (b"content-security-policy", APP_CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
)

STATUS_TEXT = {
    400: "Yêu cầu không hợp lệ (bad request)",
    404: "Không tìm thấy (not found)",
    405: "Phương thức không được phép (method not allowed)",
    414: "Yêu cầu quá dài (request too long)",
    422: "Tham số không hợp lệ (invalid parameter)",
    500: "Lỗi máy chủ (server error)",
    503: "Tạm thời không phục vụ được (unavailable)",
}


class SecurityHeaders:
    """Adds :data:`SECURITY_HEADERS` to every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend((k, v) for k, v in SECURITY_HEADERS if k not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class OneValueEach:
    """Answers 400 (the Vietnamese error page) to an address that repeats a query
    parameter (``?from=1&to=2&from=2``): every page reads one value per name, and taking
    the first or the last in silence would show something the address does not say."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            repeated = repeated_parameters(scope.get("query_string", b""))
            if repeated:
                names = ", ".join(repr(name[:40]) for name in repeated[:5])
                message = (
                    f"Tham số {names} xuất hiện nhiều lần trong địa chỉ; mỗi tham số chỉ"
                    " được ghi một lần (repeated parameter)."
                )
                response = error_page(Request(scope, receive), 400, message)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def repeated_parameters(query_string: bytes) -> list[str]:
    """The names that occur more than once in ``query_string`` (in order of first
    repetition), decoded as Starlette decodes them (``%xx``, ``+``, blank values kept)."""
    seen: set[str] = set()
    repeated: list[str] = []
    text = query_string.decode("latin-1")
    for name, _value in parse_qsl(text, keep_blank_values=True):
        if name in seen and name not in repeated:
            repeated.append(name)
        seen.add(name)
    return repeated


def error_page(request: Request, status: int, message: str) -> Response:
    """The error page (``#error``) with ``status``: one sentence, never a traceback."""
    web = web_of(request)
    return web.render(
        request,
        "error.html",
        status_code=status,
        status=status,
        title=STATUS_TEXT.get(status, str(status)),
        message=message,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = str(exc.detail or "")
    if is_reason_phrase(detail, exc.status_code) or detail == STATUS_TEXT.get(exc.status_code):
        detail = ""  # Starlette's default "Not Found": the Vietnamese title says it
    if exc.status_code == 404 and not detail:
        detail = f"Không có trang nào ở địa chỉ {request.url.path[:200]}"
    response = error_page(request, exc.status_code, vietnamese(detail))
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _our_error(request: Request, exc: Exception) -> Response:
    from baolaocai.errors import NotFoundError

    assert isinstance(exc, BaoLaoCaiError)
    said = vietnamese(exc.message)
    if isinstance(exc, NotFoundError):
        return error_page(request, 404, said)
    if isinstance(exc, InputError):
        return error_page(request, 400, said)
    if isinstance(exc, QueryTimeout | WarehouseError):
        return error_page(request, 503, said)
    return error_page(request, 500, said)


async def _unexpected(request: Request, exc: Exception) -> Response:
    # One line on the server's stderr for whoever runs it; the page says no more.
    print(
        f"error: {request.method} {request.url.path}: {type(exc).__name__}: {exc}",
        file=sys.stderr,
        flush=True,
    )
    return error_page(request, 500, "Đã có lỗi khi dựng trang này; xem dòng lỗi ở máy chủ.")


def routes() -> list[BaseRoute]:
    """Every page: collections and search, then one article's pages, then assets."""
    from web import article_views, pages

    return [
        *(_counted(route) for route in [*pages.routes(), *article_views.routes()]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]


def _counted(route: BaseRoute) -> BaseRoute:
    """``route`` with its page counted as under way while it is built (on its worker
    thread): a stopping ``web`` waits for those (:meth:`Web.wait_idle`) instead of ending
    the process under them, which aborted it in DuckDB's or tantivy's C++ code."""
    if not isinstance(route, Route) or not callable(route.endpoint):
        return route
    endpoint = route.endpoint
    if inspect.iscoroutinefunction(endpoint):  # it would block every other page
        raise TypeError(f"the page {route.path} must be a plain function (run on a thread)")

    def counted(request: Request) -> Response:
        with web_of(request).building():
            response = endpoint(request)
        assert isinstance(response, Response)
        return response

    counted.__name__ = getattr(endpoint, "__name__", "page")
    counted.__doc__ = endpoint.__doc__
    return Route(route.path, counted, methods=sorted(route.methods or ()), name=route.name)


def create_app(config: WebConfig) -> Starlette:
    """The app over ``config``'s warehouse. Only the hosts of ``config.allowed_hosts``
    are answered (a page elsewhere cannot reach it by DNS rebinding)."""
    app = Starlette(
        debug=False,
        routes=routes(),
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=list(config.allowed_hosts)),
            Middleware(OneValueEach),
        ],
        exception_handlers={
            HTTPException: _http_error,
            BaoLaoCaiError: _our_error,
            Exception: _unexpected,
        },
    )
    app.state.web = Web(config)
    return app
