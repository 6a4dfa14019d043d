"""The capability rules: options the configured platforms cannot carry out (errors), options
that may not do what was meant (warnings), and what a platform always does (forced on).

Each rule is documented in ``docs/configuration.md`` ("Capability rules").
"""

from __future__ import annotations

from ordersync.capabilities import always_skips_unpaid
from ordersync.config.settings import Settings
from ordersync.config.wording import ConfigErrors
from ordersync.errors import ConfigError
from ordersync.platform import display_name


def capability_errors(settings: Settings, *, alert_plugins: bool = False) -> list[ConfigError]:
    """Every option that the configured platforms cannot carry out, from declared capabilities.

    Each rule is documented in ``docs/configuration.md`` ("Capability rules").
    ``alert_plugins``: a plugin implements ``ordersync_alert``, so alerts reach someone even
    with no notifier configured.
    """
    errors: list[ConfigError] = []
    store = settings.main_store_type
    caps = store.capabilities
    store_name = f"the {display_name(store)} main store"

    for name, config in settings.channels.items():
        channel = settings.channel_types[name]
        here = f"channels.{name}"
        options = config.order_sync
        at = f"{here}.order_sync"

        def error(path: str, reason: str) -> None:
            errors.append(ConfigError(path, reason))

        if config.inventory_sync and not channel.capabilities.set_listing_quantity:
            error(f"{here}.inventory_sync",
                  f"{display_name(channel)} cannot set listing quantities, so Inventory Sync "
                  "is not possible; set inventory_sync: false")
        if options.import_orders and not config.inventory_sync:
            error(f"{at}.import_orders",
                  "Inventory Sync must be on to import orders: set inventory_sync: true on this "
                  "channel, or import_orders: false")
        if (always_skips_unpaid(channel.capabilities)
                and "skip_unpaid" in options.model_fields_set and not options.skip_unpaid):
            error(f"{at}.skip_unpaid",
                  f"{display_name(channel)} only gives paid orders, so Skip Unpaid Orders is "
                  "always on for it; remove skip_unpaid or set it to true")
        if options.import_unlinked and not caps.text_lines:
            error(f"{at}.import_unlinked",
                  f"{store_name} cannot take lines linked to no product, so Import Orders with "
                  "Unlinked Products is unavailable with it; set import_unlinked: false")
        if options.keep_order_number and not caps.set_order_number:
            error(f"{at}.keep_order_number",
                  f"{store_name} cannot set the number of an order it creates, so Keep Order "
                  "Number from Channel is unavailable with it; set keep_order_number: false")
        if (options.order_number_prefix and not options.keep_order_number
                and not caps.order_number_prefix):
            error(f"{at}.order_number_prefix",
                  f"{store_name} cannot put a prefix on its own order numbers, so the prefix has "
                  "nowhere to go; turn on keep_order_number (the order number becomes prefix + "
                  "channel number) or remove order_number_prefix")

        tax = options.tax
        if tax.label is not None and not caps.tax_labels:
            error(f"{at}.tax.label",
                  f"{store_name} does not take tax labels (WooCommerce and Shopify do); "
                  "remove label")
        if tax.label is not None and tax.import_without_tax:
            error(f"{at}.tax.label",
                  "import_without_tax removes the tax, so there is no tax line to label; "
                  "remove label or set import_without_tax: false")

        emails = options.emails
        for key in ("customer_notifications", "disable_new_order_notifications"):
            if getattr(emails, key) and not caps.store_email_switches:
                error(f"{at}.emails.{key}",
                      f"only a main store with its own email switches (WooCommerce) has this "
                      f"option; {store_name} does not: set {key}: false")
        if emails.order_receipt and not caps.order_receipt:
            error(f"{at}.emails.order_receipt",
                  f"{store_name} cannot be told to send the buyer an order receipt for an order "
                  "it creates, so Order Receipt is unavailable with it; set order_receipt: false")
        if emails.fulfillment_receipt and not caps.fulfillment_receipt:
            error(f"{at}.emails.fulfillment_receipt",
                  f"{store_name} cannot be told to send the buyer a shipping confirmation, so "
                  "Fulfillment Receipt is unavailable with it; set fulfillment_receipt: false")

        for key in ("import_failure", "unlinked_products"):
            if getattr(options.alerts, key) and not settings.notifiers and not alert_plugins:
                error(f"{at}.alerts.{key}",
                      "alerts are sent through notifiers and none is configured: add one "
                      "under notifiers (e.g. type: email), or set this to false")
    return errors


def option_warnings(settings: Settings) -> list[ConfigError]:
    """Options that are valid but may not do what their writer expects (``config check``).

    Tax Rate and Add Shipping Tax without Custom Tax Rate only apply to orders whose channel
    gives the tax (see ``ordersync.engine.tax``): they separate nothing from the others.
    Marketing Emails on a main store with no consent field has no effect. A main store that
    cannot cancel or refund through its API leaves a channel's cancellations and refunds to the
    seller: each is recorded as failed with what to do in the store.
    """
    warnings: list[ConfigError] = []
    store = settings.main_store_type
    caps = store.capabilities
    store_name = f"the {display_name(store)} main store"
    for name, config in settings.channels.items():
        options = config.order_sync
        here = f"channels.{name}.order_sync"
        if options.emails.marketing and not caps.marketing_consent:
            warnings.append(ConfigError(
                f"{here}.emails.marketing",
                f"{store_name} has no field for the buyer's marketing consent, so Marketing "
                "Emails has no effect with it; set marketing: false",
            ))
        if options.import_orders and not caps.cancel_orders:
            warnings.append(ConfigError(
                f"{here}.import_orders",
                f"{store_name} cannot cancel orders through its API: a channel cancellation is "
                f"recorded and you cancel it in {display_name(store)}",
            ))
        if options.import_orders and not caps.refund_orders:
            warnings.append(ConfigError(
                f"{here}.import_orders",
                f"{store_name} cannot refund orders through its API: a channel refund is "
                f"recorded and you refund it in {display_name(store)}",
            ))
        tax = options.tax
        at = f"channels.{name}.order_sync.tax"
        if tax.rate is not None and not tax.custom_rate:
            warnings.append(ConfigError(
                f"{at}.rate",
                "custom_rate is off, so no tax is separated at this rate: it is only shown as "
                "the rate of orders whose channel gives the tax; set custom_rate: true to "
                "separate it from the others",
            ))
        if tax.shipping_tax and not tax.custom_rate:
            warnings.append(ConfigError(
                f"{at}.shipping_tax",
                "custom_rate is off, so shipping only takes a share of a channel's tax total "
                "that is not itemised; set custom_rate: true (with a rate) to separate tax "
                "from shipping on orders without tax",
            ))
    return warnings


def check_capabilities(settings: Settings, *, alert_plugins: bool = False) -> None:
    """Raise :class:`ConfigErrors` if an option cannot be carried out (``capability_errors``)."""
    errors = capability_errors(settings, alert_plugins=alert_plugins)
    if errors:
        raise ConfigErrors(errors)


def force_capability_options(settings: Settings) -> None:
    """Turn on what a platform always does, so that the engine sees it as configured."""
    for name, config in settings.channels.items():
        if always_skips_unpaid(settings.channel_types[name].capabilities):
            config.order_sync.skip_unpaid = True
