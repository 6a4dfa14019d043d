"""The daemon's Prometheus metrics: one registry per daemon, served at ``GET /metrics``.

What the state database knows (orders per state, sync lag, ledger backlog) is read when the
metrics are scraped, so the numbers are right across restarts and with several daemons. What
only this process sees (passes run, webhook deliveries, repairs, API calls of the platform
HTTP clients) is counted here. Metric names are documented in ``docs/operations.md``; labels
carry names from the configuration only, never request input.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from ordersync.config.values import STORE_NAME
from ordersync.http import PlatformHttp, live_clients
from ordersync.models import RecordState
from ordersync.state.db import session_scope
from ordersync.state.records import STORE_STATE_KEY
from ordersync.state.tables import ChannelState, Effect, EffectStatus, OrderRecord

log = logging.getLogger("ordersync.daemon.metrics")


def source_label(source: str) -> str:
    """``@store`` (the store's channel_state key) is shown as ``main_store``."""
    return STORE_NAME if source == STORE_STATE_KEY else source


class StateCollector(Collector):
    """Numbers read from the state database at scrape time."""

    def __init__(self, engine: Engine, channels: Iterable[str],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.engine = engine
        self.channels = list(channels)
        self.now = now

    def collect(self) -> Iterator[Metric]:
        orders = GaugeMetricFamily(
            "ordersync_orders", "Channel orders ordersync knows, by channel and state",
            labels=["channel", "state"])
        lag = GaugeMetricFamily(
            "ordersync_sync_lag_seconds",
            "Seconds since the last successful pass of each channel (and the main store)",
            labels=["channel"])
        last = GaugeMetricFamily(
            "ordersync_last_sync_timestamp_seconds",
            "Unix time of the last successful pass", labels=["channel"])
        error = GaugeMetricFamily(
            "ordersync_channel_error", "1 while a channel (or the main store) is in error",
            labels=["channel"])
        backlog = GaugeMetricFamily(
            "ordersync_ledger_backlog", "Effects written to the ledger and not applied yet")
        failed = GaugeMetricFamily(
            "ordersync_ledger_failed", "Effects that failed for good (see `orders retry`)")
        up = GaugeMetricFamily(
            "ordersync_database_up", "1 when the state database answered this scrape")
        try:
            with session_scope(self.engine, read_only=True) as session:
                counts = session.exec(
                    select(OrderRecord.channel, OrderRecord.state, func.count())
                    .group_by(col(OrderRecord.channel), col(OrderRecord.state))
                ).all()
                states = {row.channel: row for row in session.exec(select(ChannelState))}
                effects = dict(session.exec(
                    select(Effect.status, func.count()).group_by(col(Effect.status))
                ).all())
        except SQLAlchemyError as exc:
            log.warning("metrics: the state database did not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        by_channel: dict[tuple[str, str], int] = {(c, s): n for c, s, n in counts}
        for channel in self.channels:
            for state in RecordState:
                orders.add_metric([channel, state.value], by_channel.get((channel, state.value), 0))
        now = self.now()
        for key in [*self.channels, STORE_STATE_KEY]:
            row = states.get(key)
            label = source_label(key)
            error.add_metric([label], 1 if row is not None and row.error else 0)
            if row is not None and row.last_sync is not None:
                lag.add_metric([label], max(0.0, (now - row.last_sync).total_seconds()))
                last.add_metric([label], row.last_sync.timestamp())
        backlog.add_metric([], effects.get(EffectStatus.PENDING.value, 0))
        failed.add_metric([], effects.get(EffectStatus.FAILED.value, 0))
        yield from (up, orders, lag, last, error, backlog, failed)


class HttpCollector(Collector):
    """API calls and throttled answers (429) of every platform HTTP client, per platform."""

    def __init__(self, clients: Callable[[], list[PlatformHttp]] = live_clients) -> None:
        self.clients = clients

    def collect(self) -> Iterator[Metric]:
        calls = CounterMetricFamily(
            "ordersync_api_calls", "HTTP requests sent to each platform (retries included)",
            labels=["platform"])
        throttled = CounterMetricFamily(
            "ordersync_api_throttled", "Answers of each platform that said slow down (HTTP 429)",
            labels=["platform"])
        totals: dict[str, list[int]] = {}
        for client in self.clients():
            total = totals.setdefault(client.platform, [0, 0])
            total[0] += client.calls
            total[1] += client.throttled
        for platform, (sent, slowed) in sorted(totals.items()):
            calls.add_metric([platform], sent)
            throttled.add_metric([platform], slowed)
        yield calls
        yield throttled


class DaemonMetrics:
    """The registry of one daemon and the counters the daemon moves."""

    def __init__(self, engine: Engine, channels: Iterable[str]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(StateCollector(engine, channels))
        self.registry.register(HttpCollector())
        self.passes = Counter(
            "ordersync_passes", "Sync passes run, by channel (main_store for the store) and result",
            ["channel", "result"], registry=self.registry)
        self.pass_seconds = Histogram(
            "ordersync_pass_duration_seconds", "How long each sync pass took", ["channel"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=self.registry)
        self.failures = Gauge(
            "ordersync_consecutive_failures",
            "Passes of a channel that failed in a row (backoff grows with it)", ["channel"],
            registry=self.registry)
        self.webhooks = Counter(
            "ordersync_webhook_deliveries",
            "Webhook deliveries, by channel (main_store for the store) and result: accepted, "
            "duplicate, rejected (bad signature or body)", ["channel", "result"],
            registry=self.registry)
        self.repairs = Counter(
            "ordersync_repairs", "What reconciliation found and repaired, by channel and kind",
            ["channel", "kind"], registry=self.registry)
        self.reconciliations = Counter(
            "ordersync_reconciliations", "Reconciliation rounds, by result", ["result"],
            registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
