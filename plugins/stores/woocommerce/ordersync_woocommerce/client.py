"""WooCommerce's REST API on the core's HTTP toolkit: its error codes and its pages.

WooCommerce answers errors as ``{"code": "woocommerce_rest_...", "message": "...", "data":
{"status": 404}}`` (REST API docs, "Errors"); :func:`classify` gives the code to every
:class:`~ordersync.errors.PlatformError` and calls the codes that mean "no such order, product or
variation" not found. Lists are paged with ``page``/``per_page`` and come with ``X-WP-Total``,
``X-WP-TotalPages`` and a ``Link: <...>; rel="next"`` header (docs, "Pagination"): the walk
follows the link. WooCommerce itself has no rate limit (the host may have one, answered 429,
which the core retries); the store paces itself with a local bucket.
"""

from __future__ import annotations

from ordersync.http import Kind, NextLinkPaginator, Reply, Verdict

PLATFORM = "woocommerce"
#: Items per page: the most ``per_page`` accepts (WordPress REST collections cap it at 100).
PAGE_SIZE = 100
#: Error codes that name something the store does not have.
NOT_FOUND_CODES = frozenset({
    "woocommerce_rest_shop_order_invalid_id",
    "woocommerce_rest_invalid_order_id",
    "woocommerce_rest_product_invalid_id",
    "woocommerce_rest_product_variation_invalid_id",
    "woocommerce_rest_invalid_product_id",
    "rest_post_invalid_id",
})
#: Error codes that say the credentials are wrong or lack the permission: a person must act.
FATAL_CODES = frozenset({
    "woocommerce_rest_authentication_error",
    "woocommerce_rest_cannot_view",
    "woocommerce_rest_cannot_create",
    "woocommerce_rest_cannot_edit",
    "rest_forbidden",
})


def classify(reply: Reply) -> Verdict | None:
    """The code and reason of a WooCommerce error body (any status of 400 and above)."""
    if reply.status < 400:
        return None
    body = reply.body()
    if not isinstance(body, dict) or not isinstance(body.get("code"), str):
        return None
    code = body["code"]
    reason = f"{code}: {body.get('message') or reply.excerpt()}"
    if code in NOT_FOUND_CODES:
        return Verdict(Kind.NOT_FOUND, code=code, reason=reason)
    if code in FATAL_CODES:
        return Verdict(Kind.FATAL, code=code, reason=reason)
    return Verdict(code=code, reason=reason)


def pages() -> NextLinkPaginator:
    """Pages of a collection (``GET orders``, ``products``, ...): the ``Link`` header's next."""
    return NextLinkPaginator(items=())
