"""Carrier names as sellers write them, and the eBay ``shippingCarrierCode`` each one means.

eBay takes only its own codes (the Trading API's ``ShippingCarrierCodeType`` enumeration, which
the Fulfillment API's ``shippingCarrierCode`` refers to); "Royal Mail" is ``RoyalMail``, "Evri" is
still ``Hermes``. A carrier not listed here is refused with the list of accepted names rather
than sent as ``Other``, so that buyers never get a tracking number they cannot follow.
"""

from __future__ import annotations

import re

#: The ShippingCarrierCodeType values ordersync knows to be accepted by eBay (a subset: carriers
#: eBay lists as "not currently supported" are left out). The sandbox accepts exactly these.
EBAY_CARRIER_CODES: frozenset[str] = frozenset({
    "APC", "AnPost", "AustraliaPost", "BPost", "Bartolini", "Chronopost", "ChinaPost",
    "CollectPlus", "Colissimo", "Correos", "DHL", "DHLEXPRESS", "DHLGlobalMail", "DPD",
    "DeutschePost", "Fastway", "FedEx", "GLS", "Hermes", "HongKongPost", "Interlink",
    "JapanPost", "KoreaPost", "LAPOSTE", "MondialRelay", "ONTRACK", "OsterreichischePostAG",
    "Other", "Parcelforce", "PosteItaliane", "PostNL", "RoyalMail", "SINGAPOREPOST", "StarTrack",
    "SwissPost", "Toll", "UKMail", "UPS", "USPS", "Yodel",
})

# Names and common spellings -> code. Keys are normalised by ``_key`` (lower case, letters and
# digits only), so "Royal Mail", "royal-mail" and "ROYALMAIL" are one key.
_ALIASES: dict[str, str] = {
    "royalmail": "RoyalMail",
    "royalmailtracked": "RoyalMail",
    "parcelforce": "Parcelforce",
    "parcelforceworldwide": "Parcelforce",
    "dpd": "DPD",
    "dpduk": "DPD",
    "dpdlocal": "DPD",
    "hermes": "Hermes",
    "evri": "Hermes",  # Hermes UK renamed itself Evri in 2022; eBay kept the code
    "myhermes": "Hermes",
    "yodel": "Yodel",
    "ups": "UPS",
    "usps": "USPS",
    "unitedstatespostalservice": "USPS",
    "fedex": "FedEx",
    "federalexpress": "FedEx",
    "dhl": "DHL",
    "dhlexpress": "DHL",
    "dhlparcel": "DHL",
    "dhlecommerce": "DHLGlobalMail",
    "dhlglobalmail": "DHLGlobalMail",
    "apc": "APC",
    "apcovernight": "APC",
    "ukmail": "UKMail",
    "collectplus": "CollectPlus",
    "interlink": "Interlink",
    "interlinkexpress": "Interlink",
    "anpost": "AnPost",
    "fastway": "Fastway",
    "deutschepost": "DeutschePost",
    "gls": "GLS",
    "australiapost": "AustraliaPost",
    "startrack": "StarTrack",
    "toll": "Toll",
    "laposte": "LAPOSTE",
    "colissimo": "Colissimo",
    "chronopost": "Chronopost",
    "mondialrelay": "MondialRelay",
    "postnl": "PostNL",
    "bpost": "BPost",
    "posteitaliane": "PosteItaliane",
    "brt": "Bartolini",
    "bartolini": "Bartolini",
    "correos": "Correos",
    "swisspost": "SwissPost",
    "austrianpost": "OsterreichischePostAG",
    "osterreichischepost": "OsterreichischePostAG",
    "chinapost": "ChinaPost",
    "hongkongpost": "HongKongPost",
    "japanpost": "JapanPost",
    "koreapost": "KoreaPost",
    "singaporepost": "SINGAPOREPOST",
    "ontrac": "ONTRACK",
    "other": "Other",
}

#: The name shown for each code when eBay reports a shipment (codes without one show as is).
_DISPLAY_NAMES: dict[str, str] = {
    "RoyalMail": "Royal Mail", "Parcelforce": "Parcelforce", "DPD": "DPD", "Hermes": "Evri",
    "Yodel": "Yodel", "UPS": "UPS", "USPS": "USPS", "FedEx": "FedEx", "DHL": "DHL",
    "DHLGlobalMail": "DHL eCommerce", "APC": "APC", "UKMail": "UK Mail",
    "CollectPlus": "CollectPlus", "Interlink": "Interlink Express", "AnPost": "An Post",
    "DeutschePost": "Deutsche Post", "GLS": "GLS", "AustraliaPost": "Australia Post",
    "LAPOSTE": "La Poste", "PostNL": "PostNL", "ChinaPost": "China Post",
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


_BY_CODE_KEY = {_key(code): code for code in EBAY_CARRIER_CODES}


class UnknownCarrierError(ValueError):
    """The carrier name maps to no eBay carrier code."""


def accepted_carrier_names() -> list[str]:
    """Every carrier name ordersync can translate, for error messages and the docs."""
    names = set(_DISPLAY_NAMES.values()) | set(EBAY_CARRIER_CODES)
    return sorted(names, key=str.lower)


def carrier_code(name: str | None) -> str:
    """The eBay ``shippingCarrierCode`` for a carrier name ("Royal Mail" -> ``RoyalMail``).

    An eBay code given as is (``RoyalMail``, ``DHLGlobalMail``) is accepted too.

    :raises UnknownCarrierError: no carrier given, or one eBay does not know.
    """
    if name is None or not name.strip():
        msg = ("no carrier given: eBay shows a tracking number only together with its carrier; "
               f"use one of: {', '.join(accepted_carrier_names())}")
        raise UnknownCarrierError(msg)
    key = _key(name)
    code = _ALIASES.get(key) or _BY_CODE_KEY.get(key)
    if code is None:
        msg = (f"unknown carrier {name!r}: eBay accepts only its own carrier codes; "
               f"use one of: {', '.join(accepted_carrier_names())}")
        raise UnknownCarrierError(msg)
    return code


def carrier_name(code: str | None) -> str | None:
    """The carrier name for an eBay ``shippingCarrierCode`` (``RoyalMail`` -> "Royal Mail")."""
    if code is None:
        return None
    return _DISPLAY_NAMES.get(code, code)
