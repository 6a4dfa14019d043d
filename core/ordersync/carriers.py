"""Carrier names: which carrier a seller's name means, whatever its spelling, and the refusal of
a carrier a platform does not take.

Sellers and stores write a carrier as they like ("Royal Mail", "royal-mail", "ROYALMAIL") and by
its other names ("Hermes", now Evri; "United States Postal Service"). :func:`carrier_key` makes
one key of each: lower case, letters and digits only, and an other name replaced by the key of
the name the carrier goes by (:data:`ALIASES`). A platform plugin keeps only what is its own:
its codes (:class:`CarrierCodes`), or the providers it lists for an order (:func:`pick_carrier`).
A name that means none of them is refused with :class:`UnknownCarrierError`, whose message lists
the names the platform takes; it is never sent as "other", so that buyers never get a tracking
number they cannot follow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

_T = TypeVar("_T")

#: Other names of carriers, as keys -> the key of the name the carrier goes by.
ALIASES: Mapping[str, str] = MappingProxyType({
    "hermes": "evri",  # Hermes UK renamed itself Evri in 2022
    "myhermes": "evri",
    "royalmailtracked": "royalmail",
    "parcelforceworldwide": "parcelforce",
    "dpduk": "dpd",
    "dpdlocal": "dpd",
    "unitedstatespostalservice": "usps",
    "unitedparcelservice": "ups",
    "federalexpress": "fedex",
    "dhlglobalmail": "dhlecommerce",  # DHL Global Mail became DHL eCommerce
    "apcovernight": "apc",
    "interlinkexpress": "interlink",
    "bartolini": "brt",  # BRT, formerly Bartolini
    "austrianpost": "osterreichischepost",
    "osterreichischepostag": "osterreichischepost",
})


class UnknownCarrierError(ValueError):
    """No carrier was given, or the name means none of the carriers a platform takes; the
    message names the ones it takes."""


def name_key(name: str) -> str:
    """``name`` in lower case, letters and digits only: "Royal Mail" -> ``royalmail``."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def carrier_key(name: str) -> str:
    """The key of the carrier ``name`` means: its :func:`name_key`, an other name of a carrier
    replaced by the carrier's own ("Hermes" -> ``evri``)."""
    key = name_key(name)
    return ALIASES.get(key, key)


def refusal(name: str | None, names: Iterable[str], *, platform: str,
            accepted: str) -> UnknownCarrierError:
    """The error for a carrier ``name`` (None: not given) that means none of ``names``.

    :param platform: the platform's name ("eBay").
    :param accepted: what ``names`` are ("the carriers it has codes for").
    """
    listed = ", ".join(sorted(set(names), key=str.lower)) or "(none)"
    if name is None or not name.strip():
        msg = (f"no carrier given: {platform} shows a tracking number only with its carrier; "
               f"give one of {accepted}: {listed}")
    else:
        msg = f"unknown carrier {name!r}: {platform} takes only {accepted}; use one of: {listed}"
    return UnknownCarrierError(msg)


def pick_carrier(name: str | None, choices: Iterable[tuple[str, _T]], *, platform: str,
                 accepted: str) -> _T:
    """The choice whose name means the same carrier as ``name`` (compared by
    :func:`carrier_key`; the first one wins).

    :param choices: ``(a name of the carrier, what the platform takes for it)``.
    :param platform: the platform's name, and ``accepted`` what the choices are, for
        :func:`refusal`.
    :raises UnknownCarrierError: no carrier given, or none of the choices is it.
    """
    choices = list(choices)
    if name is not None and name.strip():
        wanted = carrier_key(name)
        for choice, value in choices:
            if carrier_key(choice) == wanted:
                return value
    raise refusal(name, (choice for choice, _ in choices), platform=platform, accepted=accepted)


class CarrierCodes:
    """A platform's own carrier codes, found by any name of the carrier.

    A code is found by its own key ("RoyalMail" -> ``royalmail``) and by the key of the carrier
    in ``by_key`` where the two differ (eBay keeps Evri as ``Hermes``: ``{"evri": "Hermes"}``).

    :param platform: the platform's name in refusals.
    :param codes: every code the platform takes.
    :param by_key: carrier keys (:func:`carrier_key`) -> code, where a code's own key is not
        the carrier's.
    :param names: the name shown for a code (a code without one shows as is).
    """

    def __init__(self, platform: str, codes: Iterable[str], *,
                 by_key: Mapping[str, str] | None = None,
                 names: Mapping[str, str] | None = None) -> None:
        self.platform = platform
        self.codes = frozenset(codes)
        self.names = dict(names or {})
        self._by_key = {carrier_key(code): code for code in self.codes}
        self._by_key.update(by_key or {})
        unknown = (set(self._by_key.values()) | set(self.names)) - self.codes
        if unknown:
            msg = f"{platform}'s carrier tables name codes it does not take: {sorted(unknown)}"
            raise ValueError(msg)

    def accepted_names(self) -> list[str]:
        """Every carrier name the table translates (shown names and codes), for refusals."""
        return sorted(set(self.names.values()) | self.codes, key=str.lower)

    def code(self, name: str | None) -> str:
        """The platform's code for the carrier ``name`` means; a code given as is is found too.

        :raises UnknownCarrierError: no carrier given, or one the platform has no code for.
        """
        if name is not None and name.strip():
            found = self._by_key.get(carrier_key(name))
            if found is not None:
                return found
        raise refusal(name, self.accepted_names(), platform=self.platform,
                      accepted="the carriers it has codes for")

    def name(self, code: str | None) -> str | None:
        """The name shown for a code the platform reports (``Hermes`` -> "Evri")."""
        if code is None:
            return None
        return self.names.get(code, code)
