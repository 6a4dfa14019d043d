"""Which of TikTok's shipping providers a carrier name means.

TikTok takes a ``shipping_provider_id`` with each tracking number, from the providers of the
order's delivery option (``GET /logistics/202309/delivery_options/{id}/shipping_providers``,
which names each: "Royal Mail", "USPS", "Evri"...). A seller's carrier name matches a provider
whose name is the same carrier by the core's :func:`ordersync.carriers.carrier_key` (case,
spaces, punctuation and the other names of a carrier set aside: "Hermes" is Evri). A name
matching none is refused with the names TikTok offers, rather than sent as some other provider:
buyers must get a tracking number they can follow.
"""

from __future__ import annotations

from collections.abc import Sequence

from ordersync.carriers import UnknownCarrierError, pick_carrier

from ordersync_tiktok.payloads import ShippingProvider

__all__ = ["UnknownCarrierError", "provider_for"]


def provider_for(carrier: str | None, providers: Sequence[ShippingProvider]) -> ShippingProvider:
    """The provider ``carrier`` names among ``providers`` (a provider id is accepted too).

    :raises UnknownCarrierError: no carrier given, or none of the providers is it.
    """
    by_id = {provider.id: provider for provider in providers}
    if carrier is not None and carrier.strip() in by_id:
        return by_id[carrier.strip()]
    return pick_carrier(carrier, [(provider.name, provider) for provider in providers],
                        platform="TikTok Shop",
                        accepted="the shipping providers of this order's delivery option")
