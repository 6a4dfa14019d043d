"""``ordersync doctor`` for eBay: mint an access token (the credentials), then one order read
and one inventory read (the scopes behind them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ordersync.connect import Check, Status
from ordersync.connect.doctor import checks_from_error, unknown
from ordersync.errors import PlatformError

if TYPE_CHECKING:
    from ordersync_ebay.channel import EbayChannel

#: What each read needs, and the path it reads one item of.
_READS = (("sell.fulfillment", "/sell/fulfillment/v1/order", {"limit": "1"}),
          ("sell.inventory", "/sell/inventory/v1/inventory_item", {"limit": "1"}))


async def diagnose(channel: EbayChannel) -> list[Check]:
    try:
        await channel.tokens.access_token()
    except PlatformError as exc:
        return checks_from_error(exc, ("client_secret", "refresh_token"))
    checks = [Check("reachable", Status.OK),
              Check("authenticated", Status.OK, "eBay minted a user access token")]
    missing: list[str] = []
    for scope, path, params in _READS:
        try:
            await channel.http.request("GET", path, operation=f"doctor: read {scope}",
                                       params=params)
        except PlatformError as exc:
            if exc.status in (401, 403):
                missing.append(scope)
            elif not exc.not_found:
                return [*checks, Check("read", Status.FAIL, exc.reason),
                        *unknown("scopes", "rate limit", "webhooks")]
    if missing:
        checks.append(Check("scopes", Status.FAIL,
                            f"the token may not use {', '.join(missing)}: authorise again "
                            f"with `ordersync auth {channel.name}`", fix=("scopes",)))
    else:
        checks.append(Check("scopes", Status.OK, ", ".join(s for s, _, _ in _READS)))
    checks.append(Check("rate limit", Status.UNKNOWN,
                        "eBay reports call limits in the Developer Analytics API (not read)"))
    deletion = ("Marketplace Account Deletion notifications configured"
                if channel.config.account_deletion else "orders are polled")
    checks.append(Check("webhooks", Status.OK, f"not used: {deletion}"))
    return checks
