"""``ordersync doctor`` for Shopify: one query that reads the shop (reachable, authenticated),
the app's granted scopes, its webhook subscriptions and, from the answer's
``extensions.cost.throttleStatus``, the query-cost bucket."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ordersync.connect import Check, Status
from ordersync.connect.doctor import checks_from_error, unknown
from ordersync.errors import PlatformError
from ordersync.http.graphql import Document

from ordersync_shopify.webhooks import TOPICS

if TYPE_CHECKING:
    from ordersync_shopify.store import ShopifyStore

DOCTOR = Document("Doctor", """
query Doctor {
  shop { name }
  currentAppInstallation { accessScopes { handle } }
  webhookSubscriptions(first: 50) { nodes { topic } }
}
""", cost=3)


async def diagnose(store: ShopifyStore) -> list[Check]:
    try:
        answer = await store.http.json("POST", store.graphql.path, operation="doctor",
                                       **store.graphql.request(DOCTOR))
    except PlatformError as exc:
        return checks_from_error(exc, ("access_token",))
    data: dict[str, Any] = answer.get("data") or {}
    if answer.get("errors") or not data.get("shop"):
        first = (answer.get("errors") or [{}])[0]
        return [Check("reachable", Status.OK),
                Check("authenticated", Status.FAIL, str(first.get("message", "no shop")),
                      fix=("access_token",)), *unknown("scopes", "rate limit", "webhooks")]
    checks = [Check("reachable", Status.OK),
              Check("authenticated", Status.OK, f"shop {data['shop']['name']}")]
    granted = {s["handle"] for s in data["currentAppInstallation"]["accessScopes"]}
    missing = [s for s in store.config.scopes if s not in granted]
    checks.append(Check("scopes", Status.FAIL, f"missing: {', '.join(missing)} (authorise again "
                        "with `ordersync auth main_store`, or grant them to the custom app)",
                        fix=("access_token",)) if missing
                  else Check("scopes", Status.OK, f"{len(granted)} granted, none missing"))
    bucket = ((answer.get("extensions") or {}).get("cost") or {}).get("throttleStatus") or {}
    if bucket.get("maximumAvailable"):
        left = bucket["currentlyAvailable"] / bucket["maximumAvailable"]
        checks.append(Check("rate limit", Status.OK if left >= 0.2 else Status.WARN,
                            f"{bucket['currentlyAvailable']:g} of {bucket['maximumAvailable']:g} "
                            f"query points left, {bucket.get('restoreRate', 0):g}/s restored"))
    else:
        checks.extend(unknown("rate limit", detail="the answer did not report the bucket"))
    topics = {node["topic"] for node in data["webhookSubscriptions"]["nodes"]}
    wanted = {t.upper().replace("/", "_") for t in TOPICS}
    if store.config.webhook_secret is None:
        checks.append(Check("webhooks", Status.OK, "not used: orders are polled"))
    elif wanted <= topics:
        checks.append(Check("webhooks", Status.OK, ", ".join(sorted(wanted))))
    else:
        checks.append(Check("webhooks", Status.WARN, "not subscribed (orders are still polled): "
                            + ", ".join(sorted(wanted - topics))))
    return checks
