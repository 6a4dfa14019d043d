"""``ordersync sandbox run``: sandbox platforms to connect to with ``ordersync auth``, served
until Ctrl-C (README, "Connect a sandbox account and use the console")."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from ordersync.cli.app import App, fail
from ordersync.cli.auth_cmd import DEFAULT_LISTEN


@click.group("sandbox")
def sandbox() -> None:
    """Sandbox platforms on loopback, to connect to as to real accounts."""


@sandbox.command("run")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path),
              default=Path("sandbox-account"), show_default=True,
              help="Where to write the ordersync.yaml for the sandboxes and their secrets/.")
@click.option("--channel", "channel_type", default=None, metavar="TYPE",
              help="Sandbox sales channel: a channel type with a sandbox (default: ebay).")
@click.option("--store", "store_type", default=None, metavar="TYPE",
              help="Sandbox main store: a store type with a sandbox (default: shopify).")
@click.option("--poll-interval", default="2s", show_default=True,
              help="The channel's poll_interval in the written ordersync.yaml.")
@click.pass_obj
def run(app: App, folder: Path, channel_type: str | None, store_type: str | None,
        poll_interval: str) -> None:
    """Start a sandbox sales channel and main store on 127.0.0.1 and serve them until Ctrl-C.

    Seeds the demo's products, listings and buyer orders, and writes DIR/ordersync.yaml for
    them with the application's credentials in DIR/secrets/ but without the seller's token:
    `ordersync auth` connects the channel through the sandbox's consent page, which redirects
    to ordersync auth's listener on 127.0.0.1:8765. The sandboxes keep their data in memory:
    a new run starts afresh (remove DIR/ordersync.db, whose tokens the new sandboxes refuse).
    """
    import asyncio
    import signal

    from ordersync.sandbox.account import open_accounts

    folder = folder.resolve()
    if (folder / "ordersync.db").exists():
        fail(f"{folder / 'ordersync.db'} holds the state of an earlier sandbox run, whose "
             f"tokens and orders the new sandboxes do not know: remove it, or give another "
             f"--dir")

    async def serve() -> None:
        try:
            accounts = await open_accounts(
                folder, app.registry, channel_type=channel_type, store_type=store_type,
                redirect_url=f"http://{DEFAULT_LISTEN}/callback", poll_interval=poll_interval)
        except LookupError as exc:
            fail(str(exc), code=1)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            _tell(accounts.channel_name, accounts.channel.type_name,
                  accounts.store.type_name, folder, accounts.needs_auth)
            await stop.wait()
        finally:
            await accounts.close()
        click.echo("sandboxes stopped", err=True)

    asyncio.run(serve())


def _tell(channel: str, channel_type: str, store_type: str, folder: Path,
          needs_auth: bool) -> None:
    where = shlex.quote(str(folder))
    click.echo(f"sandbox {channel_type} channel {channel!r} and {store_type} main store are "
               f"serving on 127.0.0.1; wrote {folder / 'ordersync.yaml'}")
    click.echo("In another terminal (this one serves them until Ctrl-C):")
    steps = [f"cd {where}"]
    if needs_auth:
        steps += ["export ORDERSYNC_TOKEN_KEY=$(ordersync tokens new-key)",
                  f"ordersync auth {channel}"]
    steps += ["ordersync doctor", "ordersync links auto",
              "export ORDERSYNC_CONSOLE_PASSWORD=choose-a-password",
              "ordersync run --listen 127.0.0.1:8080   # the console: http://127.0.0.1:8080/"]
    for step in steps:
        click.echo(f"  {step}")
    click.echo("ready", err=True)


COMMANDS = [sandbox]
