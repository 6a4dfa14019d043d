"""ordersync-squarespace: Squarespace as ordersync's main store, over the Commerce API 1.0.

:class:`~ordersync_squarespace.store.SquarespaceStore` is the store type
(``type: squarespace``); :mod:`ordersync_squarespace.webhooks` verifies and reads Squarespace's
webhook notifications; :mod:`ordersync_squarespace.sandbox` is a fake Squarespace that validates
every request against the official OpenAPI document, for tests and demos.
"""

__all__: list[str] = []
