"""ordersync-shopify: Shopify as ordersync's main store, over the Admin GraphQL API 2025-01.

:class:`~ordersync_shopify.store.ShopifyStore` is the store type (``type: shopify``);
:mod:`ordersync_shopify.webhooks` verifies and parses Shopify webhooks;
:mod:`ordersync_shopify.sandbox` is a fake Shopify that validates every document against the
official schema, for tests and demos.
"""

__all__: list[str] = []
