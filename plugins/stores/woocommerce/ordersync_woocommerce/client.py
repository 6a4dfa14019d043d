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

from ordersync.http import Kind, NextLinkPaginator, code_classifier

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


#: The code and reason of a WooCommerce error body (any status of 400 and above).
classify = code_classifier(("code",), {**dict.fromkeys(NOT_FOUND_CODES, Kind.NOT_FOUND),
                                       **dict.fromkeys(FATAL_CODES, Kind.FATAL)},
                           message=("message",), code_types=(str,))


def pages() -> NextLinkPaginator:
    """Pages of a collection (``GET orders``, ``products``, ...): the ``Link`` header's next."""
    return NextLinkPaginator(items=())
