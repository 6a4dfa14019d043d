"""Shopify's Admin GraphQL API on the core's GraphQL client: its error codes and its bucket.

Shopify limits each app and shop by query cost: a bucket of points that refills every second.
Each answer reports the bucket (``extensions.cost.throttleStatus``), which the core's
:func:`~ordersync.http.read_graphql_cost` feeds to the :class:`~ordersync.http.TokenBucket`;
a document's requested cost is taken from it before sending, so the client waits instead of
being refused. :data:`classify` reads GraphQL errors: ``THROTTLED`` (an HTTP 200) is throttled
and retried once the bucket has refilled; ``ACCESS_DENIED`` is fatal; ``INTERNAL_SERVER_ERROR``
retriable; any other GraphQL error (a document or variables the schema refuses, a query that
costs too much) is rejected.
"""

from __future__ import annotations

from functools import partial

from ordersync.http import Kind, graphql

PLATFORM = "shopify"
#: What Shopify gives a Standard plan: 1,000 points, 100 restored per second. The client starts
#: lower (50/s) and adopts what the first answer reports.
START_CAPACITY = 1000.0
START_RATE = 50.0

#: Shopify's ``errors[].extensions.code`` values that are not simply a refusal.
CODES = {"THROTTLED": Kind.THROTTLED, "ACCESS_DENIED": Kind.FATAL, "UNAUTHORIZED": Kind.FATAL,
         "FORBIDDEN": Kind.FATAL, "INTERNAL_SERVER_ERROR": Kind.RETRIABLE,
         "SERVICE_UNAVAILABLE": Kind.RETRIABLE}

classify = graphql.graphql_classifier(CODES)
raise_user_errors = partial(graphql.raise_user_errors, PLATFORM)
