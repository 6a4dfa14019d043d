"""The authorization-code grant (RFC 6749, section 4.1) as a platform declares it, and where its
tokens are kept.

``ordersync auth <name>`` sends the seller's browser to :meth:`AuthorizationFlow.consent_url`,
receives the redirect (a loopback listener, or the URL pasted by the operator), checks it with
:meth:`AuthorizationFlow.code_from_callback` and trades the code for tokens with
:meth:`AuthorizationFlow.exchange_code`. The :class:`Grant` goes to the token store under
:func:`grant_key`; a platform's token code reads it from there before its ``${ENV}``
credential, and a refresh that returns a new refresh token replaces it
(:class:`ordersync.http.oauth.RefreshedTokens` with ``grant_key``).
"""

from __future__ import annotations

import hmac
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ordersync.platform import TokenStore


class AuthorizationError(Exception):
    """The authorization failed: refused by the seller, a forged or stale redirect, or the
    platform refused the code. The message says which and never carries a secret."""


@dataclass(frozen=True)
class Grant:
    """The tokens an authorization gave; a platform fills what it returns."""

    access_token: str | None = None
    access_expires_at: datetime | None = None
    refresh_token: str | None = None
    refresh_expires_at: datetime | None = None
    scopes: tuple[str, ...] = ()
    #: When ``ordersync auth`` stored it (a refresh-token rotation keeps it).
    authorized_at: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "access_token": self.access_token,
            "access_expires_at": _iso(self.access_expires_at),
            "refresh_token": self.refresh_token,
            "refresh_expires_at": _iso(self.refresh_expires_at),
            "scopes": list(self.scopes),
            "authorized_at": _iso(self.authorized_at),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Grant:
        return cls(
            access_token=data.get("access_token"),
            access_expires_at=_time(data.get("access_expires_at")),
            refresh_token=data.get("refresh_token"),
            refresh_expires_at=_time(data.get("refresh_expires_at")),
            scopes=tuple(data.get("scopes") or ()),
            authorized_at=_time(data.get("authorized_at")),
        )

    @property
    def expires_at(self) -> datetime | None:
        """When the seller must authorise again: the refresh token's expiry, or the access
        token's when there is no refresh token (None: it does not expire)."""
        if self.refresh_token is not None:
            return self.refresh_expires_at
        return self.access_expires_at


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _time(text: Any) -> datetime | None:
    return datetime.fromisoformat(text) if isinstance(text, str) and text else None


def grant_key(name: str) -> str:
    """The token-store key of the grant of channel ``name`` (``main_store`` for the store)."""
    return f"authorization:{name}"


async def load_grant(tokens: TokenStore, name: str) -> Grant | None:
    stored = await tokens.get(grant_key(name))
    return Grant.from_json(stored) if stored is not None else None


async def save_grant(tokens: TokenStore, name: str, grant: Grant) -> None:
    await tokens.put(grant_key(name), grant.to_json())


class AuthorizationFlow(ABC):
    """One platform account's authorization-code grant.

    ``ordersync auth`` calls :meth:`redirect_uri` with the URL of its listener, then
    :meth:`consent_url`, then :meth:`code_from_callback` on the redirect's query, then
    :meth:`exchange_code`.

    .. versionadded:: 0.4
    """

    #: What the operator should have registered with the platform for the redirect to reach
    #: the listener (shown by ``ordersync auth`` before the consent URL).
    setup_hint: str = ""

    def redirect_uri(self, listener_url: str) -> str:
        """The ``redirect_uri`` the platform is given: the listener's URL by default. eBay takes
        the application's RuName instead, which eBay maps to the URL registered with it."""
        return listener_url

    @abstractmethod
    def consent_url(self, state: str, redirect_uri: str) -> str:
        """The page where the seller signs in and grants the app access.

        :param state: a random value the redirect must bring back (CSRF protection).
        :param redirect_uri: what :meth:`redirect_uri` returned.
        """

    def code_from_callback(self, params: Mapping[str, str], state: str) -> str:
        """The authorization code of the redirect's query ``params``, checked.

        The default checks the OAuth ``error`` and that ``state`` came back unchanged; a
        platform that signs its redirect (Shopify) checks the signature too.

        :raises AuthorizationError: the seller declined, or the redirect is not the answer to
            this authorization.
        """
        if params.get("error"):
            description = params.get("error_description") or ""
            msg = f"the platform refused the authorization: {params['error']} {description}"
            raise AuthorizationError(msg.strip())
        if not hmac.compare_digest(params.get("state", ""), state):
            msg = ("the redirect's state does not match this authorization (a stale or forged "
                   "redirect): run `ordersync auth` again and use the URL it prints")
            raise AuthorizationError(msg)
        code = params.get("code")
        if not code:
            msg = "the redirect carries no authorization code"
            raise AuthorizationError(msg)
        return code

    @abstractmethod
    async def exchange_code(self, code: str, redirect_uri: str) -> Grant:
        """Trade ``code`` for tokens at the platform's token endpoint (one request, no retry:
        a code works once).

        :raises AuthorizationError: the platform refused the code.
        """
