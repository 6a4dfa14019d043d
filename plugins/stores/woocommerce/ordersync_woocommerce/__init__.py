"""ordersync-woocommerce: WooCommerce as ordersync's main store, over the REST API wc/v3.

:class:`~ordersync_woocommerce.store.WooCommerceStore` is the store type
(``type: woocommerce``); :mod:`ordersync_woocommerce.mapping` translates drafts and orders;
:mod:`ordersync_woocommerce.webhooks` verifies and reads WooCommerce webhooks;
:mod:`ordersync_woocommerce.sandbox` is a fake WooCommerce for tests and demos.
"""

from ordersync_woocommerce.store import WooCommerceConfig, WooCommerceStore

__all__ = ["WooCommerceConfig", "WooCommerceStore"]
