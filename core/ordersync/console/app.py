"""The console's pages and forms: a Starlette app the daemon mounts at ``/``.

Pages (GET): ``/`` overview, ``/orders`` the order list, ``/orders/{channel}/{order_id}`` one
order, ``/links/waiting`` the orders waiting for links, ``/failed`` the failed orders,
``/login``. Forms (POST): ``/login``, ``/logout``, ``/links`` (link a listing), ``/retry``
(retry failed orders). ``/static/...``: the stylesheet.

Database reads run in a thread (as ``/healthz`` does): the loop also runs the passes. The work
a form asks for runs in the daemon's scheduler, in the channel's turn: a link is followed by
the channel's next pass at once, a retry is a job of the channel's worker.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ordersync.daemon.scheduler import Job, Scheduler
from ordersync.errors import PlatformError
from ordersync.models import RecordState, StoreProduct
from ordersync.state.db import session_scope
from ordersync.sync.links import add_link
from ordersync.sync.runtime import Runtime

from . import queries
from .actions import reset_failed_effects, retry_orders
from .auth import Credentials, LoginLimiter, Session, Sessions, same_token
from .suggest import suggest

log = logging.getLogger("ordersync.console")

HERE = Path(__file__).parent
COOKIE = "ordersync_console"
#: The login form's CSRF token, before there is a session (double submit: cookie and field).
LOGIN_COOKIE = "ordersync_console_login"
#: The largest form body read (a form of the console is a few hundred bytes).
MAX_FORM_BYTES = 16 * 1024
#: Seconds the store's products are kept for suggestions before they are read again.
PRODUCTS_TTL = 60.0

_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self'; "
                                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(moment: datetime | str | None) -> str:
    if moment is None:
        return "never"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _templates() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["when"] = _when
    env.filters["seg"] = lambda value: quote(str(value), safe="")
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


@dataclass
class _Products:
    items: list[StoreProduct]
    read_at: float


class Console:
    """The console of one daemon: its sessions, login limits, templates and routes."""

    def __init__(self, runtime: Runtime, scheduler: Scheduler, credentials: Credentials,
                 *, limiter: LoginLimiter | None = None) -> None:
        self.runtime = runtime
        self.scheduler = scheduler
        self.credentials = credentials
        self.sessions = Sessions()
        self.limiter = limiter or LoginLimiter()
        self.templates = _templates()
        self._products: _Products | None = None

    # -- the app -----------------------------------------------------------------------------------

    def app(self) -> Starlette:
        page = self._page
        action = self._action
        return Starlette(routes=[
            Route("/", page(self.overview), methods=["GET"]),
            Route("/orders", page(self.orders), methods=["GET"]),
            Route("/orders/{channel}/{order_id:path}", page(self.order), methods=["GET"]),
            Route("/links/waiting", page(self.waiting), methods=["GET"]),
            Route("/failed", page(self.failed), methods=["GET"]),
            Route("/links", action(self.link), methods=["POST"]),
            Route("/retry", action(self.retry), methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/login", self.login_form, methods=["GET"]),
            Route("/login", self.login, methods=["POST"]),
            # StaticFiles serves files of its folder only (a path out of it is a 404).
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ])

    def _render(self, request: Request, template: str, status: int = 200,
                session: Session | None = None, **context: Any) -> HTMLResponse:
        flashes = list(session.flashes) if session is not None else []
        if session is not None:
            session.flashes.clear()
        body = self.templates.get_template(template).render(
            session=session, path=request.url.path, flashes=flashes, **context)
        return HTMLResponse(body, status_code=status, headers=_HEADERS)

    def _session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(COOKIE))

    def _page(self, view: Callable[[Request, Session], Awaitable[Response]]
              ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = self._session(request)
            if session is None:
                return _redirect(f"/login?next={quote(_here(request), safe='')}")
            return await view(request, session)
        return endpoint

    def _action(self, view: Callable[[Request, Session, dict[str, str]], Awaitable[Response]]
                ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if not self._same_origin(request):
                return _forbidden("this form was not sent from the console's own page")
            session = self._session(request)
            if session is None:
                return _redirect("/login")
            form = await _form(request)
            if form is None:
                return _forbidden("the form is too large or not a form")
            if not same_token(form.get("csrf"), session.csrf):
                return _forbidden("the form's CSRF token is missing or wrong: reload the page")
            if not session.can_act:
                return _forbidden("the read-only user cannot change anything")
            return await view(request, session, form)
        return endpoint

    # -- where a request comes from ----------------------------------------------------------------

    def _scheme(self, request: Request) -> str:
        forwarded = request.headers.get("x-forwarded-proto")
        if self.credentials.trust_proxy and forwarded:
            return forwarded.split(",")[0].strip().lower()
        return request.url.scheme

    def _origin(self, request: Request) -> str:
        host = request.headers.get("host", "")
        forwarded = request.headers.get("x-forwarded-host")
        if self.credentials.trust_proxy and forwarded:
            host = forwarded.split(",")[0].strip()
        return f"{self._scheme(request)}://{host}".lower()

    def _same_origin(self, request: Request) -> bool:
        """Whether a POST comes from a page of this console (``Origin``, else ``Referer``)."""
        expected = self._origin(request)
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() == expected
        referer = request.headers.get("referer")
        if referer:
            parts = urlsplit(referer)
            return f"{parts.scheme}://{parts.netloc}".lower() == expected
        return False

    def _client(self, request: Request) -> str:
        forwarded = request.headers.get("x-forwarded-for")
        if self.credentials.trust_proxy and forwarded:
            return forwarded.split(",")[-1].strip()
        return request.client.host if request.client else "unknown"

    # -- logging in and out ------------------------------------------------------------------------

    async def login_form(self, request: Request) -> Response:
        if self._session(request) is not None:
            return _redirect(_next(request.query_params.get("next")))
        return self._login_page(request)

    def _login_page(self, request: Request, error: str | None = None,
                    status: int = 200, next_path: str | None = None) -> Response:
        token = secrets.token_urlsafe(32)
        response = self._render(request, "login.html", status=status, error=error,
                                next=_next(next_path or request.query_params.get("next")),
                                login_csrf=token)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=self._scheme(request) == "https", path="/login")
        return response

    async def login(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _forbidden("this form was not sent from the console's own page")
        client = self._client(request)
        wait = self.limiter.wait_for(client)
        if wait > 0:
            log.warning("console: login refused from %s: too many failed attempts", client)
            response = self._login_page(
                request, f"Too many failed attempts: try again in {int(wait) + 1} seconds.",
                status=429)
            response.headers["Retry-After"] = str(int(wait) + 1)
            return response
        form = await _form(request) or {}
        expected = request.cookies.get(LOGIN_COOKIE)
        if not expected or not same_token(form.get("csrf"), expected):
            return _forbidden("the login form's CSRF token is missing or wrong: reload the page")
        role = self.credentials.role_of(form.get("password", ""))
        if role is None:
            self.limiter.failed(client)
            log.warning("console: failed login from %s", client)
            return self._login_page(request, "Wrong password.", status=401,
                                    next_path=form.get("next"))
        self.limiter.succeeded(client)
        old = request.cookies.get(COOKIE)
        if old:
            self.sessions.drop(old)
        session = self.sessions.create(role)
        log.info("console: %s logged in from %s", role, client)
        response = _redirect(_next(form.get("next")))
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        response.set_cookie(COOKIE, session.token, httponly=True, samesite="strict",
                            secure=self._scheme(request) == "https", path="/")
        return response

    async def logout(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _forbidden("this form was not sent from the console's own page")
        session = self._session(request)
        form = await _form(request) or {}
        if session is not None and same_token(form.get("csrf"), session.csrf):
            self.sessions.drop(session.token)
        response = _redirect("/login")
        response.delete_cookie(COOKIE, path="/")
        return response

    # -- pages -------------------------------------------------------------------------------------

    async def overview(self, request: Request, session: Session) -> Response:
        runtime = self.runtime
        sources = await asyncio.to_thread(queries.source_status, runtime.settings, runtime.engine)
        live = self.scheduler.status()
        for label, info in sources.items():
            info["live"] = live.get(label)
        return self._render(request, "overview.html", session=session, sources=sources)

    async def orders(self, request: Request, session: Session) -> Response:
        params = request.query_params
        channels = list(self.runtime.settings.channels)
        channel = params.get("channel") or None
        state = params.get("state") or None
        states = [s.value for s in RecordState]
        if channel is not None and channel not in channels:
            channel = None
        if state is not None and state not in states:
            state = None
        wanted = queries.OrderFilter(channel=channel, state=state,
                                     search=(params.get("q") or "").strip() or None,
                                     before=_int(params.get("before")))

        def read() -> queries.OrderPage:
            with session_scope(self.runtime.engine, read_only=True) as db:
                return queries.order_page(db, wanted, channels)

        page = await asyncio.to_thread(read)
        return self._render(request, "orders.html", session=session, page=page,
                            wanted=wanted, channels=channels, states=states)

    async def failed(self, request: Request, session: Session) -> Response:
        wanted = queries.OrderFilter(state=RecordState.FAILED.value,
                                     before=_int(request.query_params.get("before")))
        channels = list(self.runtime.settings.channels)

        def read() -> queries.OrderPage:
            with session_scope(self.runtime.engine, read_only=True) as db:
                return queries.order_page(db, wanted, channels)

        page = await asyncio.to_thread(read)
        return self._render(request, "failed.html", session=session, page=page)

    async def order(self, request: Request, session: Session) -> Response:
        channel = request.path_params["channel"]
        order_id = request.path_params["order_id"]

        def read() -> queries.OrderDetail | None:
            with session_scope(self.runtime.engine, read_only=True) as db:
                return queries.order_detail(db, channel, order_id)

        detail = await asyncio.to_thread(read)
        if detail is None:
            return self._render(request, "missing.html", status=404, session=session,
                                channel=channel, order_id=order_id)
        return self._render(request, "order.html", session=session, detail=detail)

    async def waiting(self, request: Request, session: Session) -> Response:
        after = _int(request.query_params.get("after"))

        def read() -> tuple[list[queries.WaitingOrder], int | None]:
            with session_scope(self.runtime.engine, read_only=True) as db:
                return queries.waiting_orders(db, after)

        orders, next_after = await asyncio.to_thread(read)
        products, error = await self._store_products()
        suggestions = {
            (order.channel, line.listing_id): suggest(line.sku, line.title, products)
            for order in orders for line in order.lines
        }
        return self._render(request, "waiting.html", session=session, orders=orders,
                            next_after=next_after, suggestions=suggestions,
                            products=products, products_error=error)

    async def _store_products(self) -> tuple[list[StoreProduct], str | None]:
        """The store's products, read again once :data:`PRODUCTS_TTL` has passed."""
        now = time.monotonic()
        if self._products is not None and now - self._products.read_at < PRODUCTS_TTL:
            return self._products.items, None
        try:
            items = [product async for product in self.runtime.store.list_products()]
        except PlatformError as exc:
            return (self._products.items if self._products else []), str(exc)
        self._products = _Products(items=items, read_at=now)
        return items, None

    # -- forms -------------------------------------------------------------------------------------

    async def link(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        channel = form.get("channel", "")
        listing_id = form.get("listing_id", "")
        variant_id = form.get("variant_id", "").strip()
        back = _next(form.get("next") or "/links/waiting")
        if channel not in self.runtime.settings.channels or not listing_id:
            session.flashes.append(("error", "No such channel or listing."))
            return _redirect(back)
        products, error = await self._store_products()
        product = next((p for p in products if p.variant_id == variant_id), None)
        if product is None:
            self._products = None  # a variant added since the last read: read them again
            products, error = await self._store_products()
            product = next((p for p in products if p.variant_id == variant_id), None)
        if product is None:
            why = f" (the store's products cannot be read: {error})" if error else ""
            session.flashes.append(("error", f"The main store has no variant "
                                             f"{variant_id!r}{why}: nothing linked."))
            return _redirect(back)

        def write() -> None:
            with session_scope(self.runtime.engine) as db:
                add_link(db, channel, listing_id, variant_id, product.sku)

        await asyncio.to_thread(write)
        log.info("console: linked %s listing %s -> store variant %s", channel, listing_id,
                 variant_id, extra={"channel": channel})
        soon = self._pass_now(channel)
        session.flashes.append(("ok", f"Linked {channel} listing {listing_id} to "
                                      f"{product.title or variant_id} ({variant_id})."
                                      + (" Its orders import in the pass starting now."
                                         if soon else " Its orders import in the next pass.")))
        return _redirect(back)

    def _pass_now(self, channel: str) -> bool:
        """Make the channel's next pass start now; False when the daemon does not poll it."""
        source = self.scheduler.sources.get(channel)
        if source is None or self.scheduler.stopping:
            return False
        source.next_poll = 0.0
        source.wake.set()
        return True

    async def retry(self, request: Request, session: Session, form: dict[str, str]) -> Response:
        channel = form.get("channel", "")
        order_id = form.get("order_id", "")
        back = _next(form.get("next") or f"/orders/{quote(channel, safe='')}/"
                                          f"{quote(order_id, safe='')}")
        keys = [(channel, order_id)]
        runtime = self.runtime

        def reset() -> int:
            with session_scope(runtime.engine) as db:
                return reset_failed_effects(db, keys)

        async def run() -> None:
            for outcome in await retry_orders(runtime, keys):
                level = logging.WARNING if outcome.problem else logging.INFO
                log.log(level, "console: retry of %s:%s: %s: %s", outcome.channel,
                        outcome.order_id, outcome.state or "not retried", outcome.message,
                        extra={"channel": outcome.channel})

        if channel not in self.scheduler.sources:
            session.flashes.append(("error", f"The daemon does not sync channel {channel!r}: "
                                             "nothing retried."))
            return _redirect(back)
        await asyncio.to_thread(reset)
        if not self.scheduler.submit(channel, Job(f"retry of order {order_id}", run)):
            session.flashes.append(("error", "The daemon is stopping: the order's failed "
                                             "effects are pending again and the next start "
                                             "applies them."))
            return _redirect(back)
        session.flashes.append(("ok", f"Retrying {channel} order {order_id} now: "
                                      "reload to see where it stands."))
        return _redirect(back)


# -- helpers ---------------------------------------------------------------------------------------

def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=_HEADERS)


def _forbidden(why: str) -> Response:
    return PlainTextResponse(f"403 Forbidden: {why}\n", status_code=403, headers=_HEADERS)


def _here(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def _next(path: str | None) -> str:
    """A path of this console to go to after a form, never another site."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


async def _form(request: Request) -> dict[str, str] | None:
    """The fields of an urlencoded form (the first value of each); None when it is not one."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50,
                          strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {key: values[0] for key, values in fields.items()}
