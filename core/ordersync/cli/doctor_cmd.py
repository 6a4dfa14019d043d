"""``ordersync doctor``: contact every configured channel and the main store with their
credentials and report what works (:mod:`ordersync.connect.doctor`)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import click

from ordersync.cli.app import App, echo_json, fail

#: Exit status when a check failed.
EXIT_FAILED = 1
#: Seconds one platform's checks may take in all.
TIMEOUT = 60.0


@click.command("doctor")
@click.argument("names", nargs=-1)
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON keyed by channel name, and main_store for the main store.")
@click.pass_obj
def doctor(app: App, names: tuple[str, ...], as_json: bool) -> None:
    """Check each channel and the main store: reachable, authenticated, scopes, rate limit,
    webhooks.

    Each platform is called with its credentials, without retries: a refused credential is
    reported at once with the configuration key (and its ${ENV}) to fix. NAMES limits the
    checks to those channels (main_store: the main store). Exits 1 when a check failed.
    """
    from ordersync.connect.accounts import account_names
    from ordersync.errors import ConfigError
    from ordersync.state.tokens import open_token_store

    settings = app.settings
    wanted = list(names) or account_names(settings)
    unknown = [name for name in wanted if name not in account_names(settings)]
    if unknown:
        fail(f"no channel or main store named {', '.join(unknown)}: choose from "
             f"{', '.join(account_names(settings))}")
    try:
        tokens = open_token_store(app.engine)
    except ConfigError as exc:
        fail(str(exc))

    async def run_all() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(_diagnose(app, name, tokens) for name in wanted)))

    reports = dict(zip(wanted, asyncio.run(run_all()), strict=True))
    if as_json:
        echo_json(reports)
    else:
        for name, report in reports.items():
            click.echo(f"{name} ({report['type']}): {'ok' if report['ok'] else 'FAILED'}")
            for check in report["checks"]:
                line = f"  {check['name']:<14} {check['status']:<8}{check['detail']}"
                if check["fix"]:
                    line += f" — fix {', '.join(check['fix'])}"
                click.echo(line.rstrip())
    if not all(report["ok"] for report in reports.values()):
        raise SystemExit(EXIT_FAILED)


async def _diagnose(app: App, name: str, tokens: Any) -> dict[str, Any]:
    """One account's report; whatever goes wrong is a failed check of that account only."""
    from ordersync.connect import Check, Status
    from ordersync.connect.accounts import build, credential_keys, section
    from ordersync.connect.doctor import generic_checks

    platform = build(app.settings, name, tokens, max_attempts=1)
    try:
        checks = await asyncio.wait_for(platform.diagnose(), TIMEOUT)
        if checks is None:
            checks = await asyncio.wait_for(
                generic_checks(platform, credential_keys(platform)), TIMEOUT)
    except TimeoutError:
        checks = [Check("reachable", Status.FAIL, f"no answer within {TIMEOUT:g} s")]
    except Exception as exc:  # a plugin's bug is this account's failed check, not the run's
        checks = [Check("diagnose", Status.FAIL, f"{type(exc).__name__}: {exc}")]
    finally:
        with contextlib.suppress(Exception):  # closing must not hide the report
            await platform.aclose()
    can_authorise = False
    with contextlib.suppress(Exception):
        can_authorise = platform.authorization() is not None
    return {
        "type": platform.type_name,
        "ok": all(check.status != Status.FAIL for check in checks),
        "checks": [{**check.to_json(),
                    "fix": _fixes(app, section(name), check.fix, name, can_authorise)}
                   for check in checks],
    }


def _fixes(app: App, where: str, keys: tuple[str, ...], name: str,
           can_authorise: bool) -> list[str]:
    """Each key as its YAML path with the value written there (a ``${ENV}`` reference)."""
    raw = app.raw_config()
    node: Any = raw.get("main_store") if where == "main_store" else (
        (raw.get("channels") or {}).get(name))
    out = []
    for key in keys:
        written = node.get(key) if isinstance(node, dict) else None
        out.append(f"{where}.{key} ({written})" if isinstance(written, str) and
                   written.startswith("${") else f"{where}.{key}")
    if out and can_authorise:
        out.append(f"or run `ordersync auth {name}`")
    return out


COMMANDS = [doctor]
