"""``ordersync auth``: authorise ordersync for a channel or the main store, and keep the tokens
in the token store (docs/operations.md, "Connecting accounts")."""

from __future__ import annotations

import asyncio
import secrets
import sys
import webbrowser

import click

from ordersync.cli.app import App, fail

#: Where the listener binds by default: the redirect URL to register with the platform is
#: ``http://127.0.0.1:8765/callback``.
DEFAULT_LISTEN = "127.0.0.1:8765"
_LOOPBACK = ("127.", "::1", "localhost")
EXIT_REFUSED = 1


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.strip("[]")
    if not host.startswith(_LOOPBACK) or not port.isdigit() or not 0 <= int(port) < 65536:
        fail(f"--listen {text!r}: give a loopback address and port, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


@click.command("auth")
@click.argument("name")
@click.option("--listen", metavar="HOST:PORT",
              help=f"Receive the platform's redirect on this loopback address (default when "
                   f"stdin is a terminal: {DEFAULT_LISTEN}; port 0: any free port).")
@click.option("--paste", is_flag=True,
              help="Paste the URL the browser lands on instead (a server without a browser; "
                   "the default when stdin is not a terminal).")
@click.option("--no-browser", is_flag=True, help="Do not offer to open the consent page.")
@click.option("--timeout", type=click.FloatRange(min=1), default=300.0, show_default=True,
              help="Seconds to wait for the redirect.")
@click.pass_obj
def auth(app: App, name: str, listen: str | None, paste: bool, no_browser: bool,
         timeout: float) -> None:
    """Authorise ordersync for a channel (by name) or the main store (main_store).

    Prints the platform's consent page (and offers to open it), receives the redirect on a
    loopback listener or takes the pasted URL, trades the code for tokens and keeps them,
    encrypted, in the state database (ORDERSYNC_TOKEN_KEY must be set). The daemon uses them
    from then on, before any credential in the configuration.
    """
    from ordersync.connect import AuthorizationError, save_grant
    from ordersync.connect.accounts import build
    from ordersync.connect.listener import LoopbackListener, params_from_pasted
    from ordersync.errors import ConfigError
    from ordersync.state.tokens import open_token_store

    if listen and paste:
        fail("--listen and --paste: choose one")
    address = _address(listen or DEFAULT_LISTEN)
    settings = app.settings
    try:
        tokens = open_token_store(app.engine, require_key=True)
    except ConfigError as exc:
        fail(str(exc))
    try:
        platform = build(settings, name, tokens)
    except KeyError as exc:
        fail(str(exc.args[0]))
    flow = platform.authorization()
    if flow is None:
        fail(f"{name} ({platform.type_name}) has no authorization flow: its credentials come "
             f"from its section of {app.config_path} (see the platform's page in docs/platforms)")
    use_listener = bool(listen) or (not paste and sys.stdin.isatty())
    listener = None
    if use_listener:
        host, port = address
        try:
            listener = LoopbackListener(host, port)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    state = secrets.token_urlsafe(24)
    try:
        try:
            listener_url = listener.url if listener else "http://{}:{}/callback".format(
                *address)
            redirect_uri = flow.redirect_uri(listener_url)
            url = flow.consent_url(state, redirect_uri)
        except AuthorizationError as exc:
            fail(str(exc))
        if flow.setup_hint:
            click.echo(flow.setup_hint, err=True)
        click.echo(f"Open this page, sign in and allow access:\n\n  {url}\n")
        if (not no_browser and sys.stdout.isatty() and sys.stdin.isatty()
                and click.confirm("Open it in your browser?", default=True, err=True)):
            webbrowser.open(url)
        if listener is not None:
            click.echo(f"Waiting for the redirect to {listener.url} ...", err=True)
            params = listener.wait(timeout)
            if params is None:
                fail(f"no redirect reached {listener.url} within {timeout:g} s", EXIT_REFUSED)
        else:
            pasted = click.prompt("Paste the URL the browser landed on", err=True)
            params = params_from_pasted(pasted)
        code = flow.code_from_callback(params, state)

        async def exchange() -> str | None:
            try:
                grant = await flow.exchange_code(code, redirect_uri)
                await save_grant(tokens, name, grant)
            finally:
                await platform.aclose()
            expires = grant.expires_at
            return expires.isoformat(timespec="seconds") if expires is not None else None

        expires = asyncio.run(exchange())
    except AuthorizationError as exc:
        fail(str(exc), EXIT_REFUSED)
    finally:
        if listener is not None:
            listener.close()
    until = f"; it expires {expires}: authorise again before then" if expires else ""
    click.echo(f"{name}: authorised; the tokens are in the token store (encrypted){until}.")


COMMANDS = [auth]
