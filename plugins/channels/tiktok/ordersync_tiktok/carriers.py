"""Which of TikTok's shipping providers a carrier name means.

TikTok takes a ``shipping_provider_id`` with each tracking number, from the providers of the
order's delivery option (``GET /logistics/202309/delivery_options/{id}/shipping_providers``,
which names each: "Royal Mail", "USPS", "Evri"...). A seller's carrier name matches a provider
whose name is the same once case, spaces and punctuation are set aside, or an alias of it
("Hermes" is Evri). A name matching none is refused with the names TikTok offers, rather than
sent as some other provider: buyers must get a tracking number they can follow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ordersync_tiktok.payloads import ShippingProvider

#: Other names of a carrier -> the key of the name TikTok lists it under.
_ALIASES: dict[str, str] = {
    "hermes": "evri",
    "myhermes": "evri",
    "royalmailtracked": "royalmail",
    "parcelforceworldwide": "parcelforce",
    "unitedstatespostalservice": "usps",
    "federalexpress": "fedex",
    "dpduk": "dpd",
    "dpdlocal": "dpd",
    "unitedparcelservice": "ups",
}


class UnknownCarrierError(ValueError):
    """The carrier name matches none of the order's shipping providers."""


def _key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return _ALIASES.get(key, key)


def provider_for(carrier: str | None, providers: Sequence[ShippingProvider]) -> ShippingProvider:
    """The provider ``carrier`` names among ``providers`` (a provider id is accepted too).

    :raises UnknownCarrierError: no carrier given, or none of the providers is it.
    """
    names = ", ".join(sorted((p.name for p in providers), key=str.lower)) or "(none)"
    if carrier is None or not carrier.strip():
        msg = ("no carrier given: TikTok Shop takes a tracking number only with its shipping "
               f"provider; this order's delivery option offers: {names}")
        raise UnknownCarrierError(msg)
    wanted = _key(carrier)
    for provider in providers:
        if provider.id == carrier.strip() or _key(provider.name) == wanted:
            return provider
    msg = (f"unknown carrier {carrier!r}: not one of the shipping providers of this order's "
           f"delivery option on TikTok Shop: {names}")
    raise UnknownCarrierError(msg)
