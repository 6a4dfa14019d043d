"""A platform's notice that one of its users' data must be deleted (eBay's Marketplace Account
Deletion notifications), received at ``/webhooks/<channel>``.

A channel receives them by implementing :class:`AccountDeletionReceiver` (the two methods; no
base class). The daemon asks it first about every ``GET`` and ``POST`` to its webhook URL, so
a channel that takes no order webhooks still receives them:

- ``GET``: :meth:`~AccountDeletionReceiver.webhook_challenge` answers the platform's check of
  the endpoint (eBay's ``challenge_code``) with a JSON object, or returns None (404).
- ``POST``: :meth:`~AccountDeletionReceiver.account_deletion` verifies the delivery and names
  the user's accounts, or returns None when the delivery is something else (it then goes to
  ``parse_webhook`` as usual). The daemon removes the personal data of every stored order of
  the channel's type whose buyer has one of those account names
  (:func:`ordersync.state.privacy.forget_buyer`), logs the counts only, and answers 204.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class AccountDeletion:
    """One verified notice: the platform's id of it, and the user's account names and ids as
    the channel's orders hold them (``Buyer.username``, or ``Buyer.name`` when that is all)."""

    event_id: str
    accounts: tuple[str, ...]


@runtime_checkable
class AccountDeletionReceiver(Protocol):
    """What a channel implements to receive account deletion notices (see the module doc)."""

    def webhook_challenge(self, query: Mapping[str, str]) -> dict[str, Any] | None:
        """The JSON answer to the platform's ``GET`` check of the webhook URL (``query`` holds
        its parameters), or None when the request is not one this channel answers. No I/O.

        :raises ValueError: the check cannot be answered (the channel is not set up for it);
            the message names the setting (answered 500, logged).
        """
        ...

    async def account_deletion(
        self, headers: Mapping[str, str], body: bytes,
    ) -> AccountDeletion | None:
        """Verify one ``POST`` delivery; what it asks to delete, or None when it is not an
        account deletion notice. May call the platform (to fetch its signing key).

        :param headers: the request's headers, names lower-case.
        :raises WebhookSignatureError: the signature is missing or wrong (answered 412).
        :raises ValueError: the delivery cannot be read (answered 400).
        :raises PlatformError: the platform could not be asked (answered 500: it sends again).
        """
        ...
