"""Carrier names as sellers write them, and the eBay ``shippingCarrierCode`` each one means.

eBay takes only its own codes (the Trading API's ``ShippingCarrierCodeType`` enumeration, which
the Fulfillment API's ``shippingCarrierCode`` refers to); "Royal Mail" is ``RoyalMail``, "Evri" is
still ``Hermes``. Names are matched by the core's :func:`ordersync.carriers.carrier_key` (case,
spaces, punctuation and the other names of a carrier set aside); a carrier not listed here is
refused with the list of accepted names rather than sent as ``Other``, so that buyers never get
a tracking number they cannot follow.
"""

from __future__ import annotations

from ordersync.carriers import CarrierCodes, UnknownCarrierError

__all__ = ["CARRIERS", "EBAY_CARRIER_CODES", "UnknownCarrierError", "accepted_carrier_names",
           "carrier_code", "carrier_name"]

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

CARRIERS = CarrierCodes(
    "eBay", EBAY_CARRIER_CODES,
    # Carriers whose key is not their code's own: eBay's DHLEXPRESS is not used (DHL Express
    # shipments go as DHL), and OnTrac's code is misspelt.
    by_key={"dhlexpress": "DHL", "dhlparcel": "DHL", "ontrac": "ONTRACK"},
    #: The name shown for each code when eBay reports a shipment (codes without one show as is).
    names={
        "RoyalMail": "Royal Mail", "Parcelforce": "Parcelforce", "DPD": "DPD", "Hermes": "Evri",
        "Yodel": "Yodel", "UPS": "UPS", "USPS": "USPS", "FedEx": "FedEx", "DHL": "DHL",
        "DHLGlobalMail": "DHL eCommerce", "APC": "APC", "UKMail": "UK Mail",
        "CollectPlus": "CollectPlus", "Interlink": "Interlink Express", "AnPost": "An Post",
        "DeutschePost": "Deutsche Post", "GLS": "GLS", "AustraliaPost": "Australia Post",
        "LAPOSTE": "La Poste", "PostNL": "PostNL", "ChinaPost": "China Post",
    },
)

#: Every carrier name ordersync can translate, for error messages and the docs.
accepted_carrier_names = CARRIERS.accepted_names
#: The eBay ``shippingCarrierCode`` for a carrier name ("Royal Mail" -> ``RoyalMail``); an eBay
#: code given as is is accepted too. Raises :class:`UnknownCarrierError`.
carrier_code = CARRIERS.code
#: The carrier name for an eBay ``shippingCarrierCode`` (``RoyalMail`` -> "Royal Mail").
carrier_name = CARRIERS.name
