"""HTTP for platform plugins: the client, paginators, answer classification, rate limits and
request signing (reference: docs/plugins.md, "HTTP toolkit reference").

- :mod:`~ordersync.http.client`: :class:`PlatformHttp`, one httpx client per platform account
  with retries, backoff, rate limiting and signing;
- :mod:`~ordersync.http.paging`: paginators for offset, page number, next link, cursor and
  GraphQL connection paging, with loop detection and a page cap;
- :mod:`~ordersync.http.classify`: what an answer means (:class:`Kind`, :class:`Verdict`) and
  the plugin's classifier hook;
- :mod:`~ordersync.http.limits`: :class:`TokenBucket` and the limit readers that feed it;
- :mod:`~ordersync.http.signing`: the :data:`Signer` hook and :class:`HmacQuerySigner`;
- :mod:`~ordersync.http.answers`: JSON answers into pydantic models (:func:`parse_answer`,
  the bases :class:`Payload` and :class:`RequestBody`) and their ISO 8601 times
  (:func:`iso_datetime`; :func:`iso_utc` writes them);
- :mod:`~ordersync.http.oauth`: access tokens from a refresh token (:class:`RefreshedTokens`,
  :class:`BearerAuth`) and from an authorization code (:func:`redeem_code`,
  :class:`CodeGrantAnswer`);
- :mod:`~ordersync.http.graphql`: GraphQL documents, the error envelope and connections
  (:class:`~ordersync.http.graphql.GraphQL`, :func:`~ordersync.http.graphql.graphql_classifier`);
- :mod:`~ordersync.http.writes`: :func:`look_then_retry`, a write whose lost answer is looked
  for before anyone retries it;
- :mod:`~ordersync.http.urls`: :data:`BaseUrl`, the type of a platform's URL settings.
"""

from ordersync.http.answers import (
    Payload,
    RequestBody,
    describe,
    iso_datetime,
    iso_utc,
    parse_answer,
    past_or_now,
)
from ordersync.http.classify import (
    FATAL_STATUSES,
    RETRY_STATUSES,
    Classifier,
    Kind,
    Reply,
    Verdict,
    code_classifier,
    status_kind,
)
from ordersync.http.client import PlatformHttp, live_clients, utc_now
from ordersync.http.limits import (
    LimitReader,
    LimitReport,
    TokenBucket,
    parse_retry_after,
    read_amzn_ratelimit,
    read_graphql_cost,
    read_ratelimit_headers,
)
from ordersync.http.oauth import (
    BearerAuth,
    CodeGrantAnswer,
    RefreshedTokens,
    oauth_error,
    redeem_code,
)
from ordersync.http.paging import (
    CursorPaginator,
    GraphQLConnection,
    NextLinkPaginator,
    OffsetPaginator,
    PageNumberPaginator,
    Paginator,
    PagingFault,
    dig,
)
from ordersync.http.signing import HmacQuerySigner, Signer, hmac_sha256, verify_hmac_sha256
from ordersync.http.urls import BaseUrl, base_url
from ordersync.http.writes import look_then_retry

__all__ = [
    "FATAL_STATUSES",
    "RETRY_STATUSES",
    "BaseUrl",
    "BearerAuth",
    "Classifier",
    "CodeGrantAnswer",
    "CursorPaginator",
    "GraphQLConnection",
    "HmacQuerySigner",
    "Kind",
    "LimitReader",
    "LimitReport",
    "NextLinkPaginator",
    "OffsetPaginator",
    "PageNumberPaginator",
    "Paginator",
    "PagingFault",
    "Payload",
    "PlatformHttp",
    "RefreshedTokens",
    "Reply",
    "RequestBody",
    "Signer",
    "TokenBucket",
    "Verdict",
    "base_url",
    "code_classifier",
    "describe",
    "dig",
    "hmac_sha256",
    "iso_datetime",
    "iso_utc",
    "live_clients",
    "look_then_retry",
    "oauth_error",
    "parse_answer",
    "parse_retry_after",
    "past_or_now",
    "read_amzn_ratelimit",
    "read_graphql_cost",
    "read_ratelimit_headers",
    "redeem_code",
    "status_kind",
    "utc_now",
    "verify_hmac_sha256",
]
