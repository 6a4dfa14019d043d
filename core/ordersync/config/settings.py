"""The loaded configuration (:class:`Settings`) and the sections ordersync itself defines
(``daemon:``, ``plugins:``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ordersync.config.values import duration, parse_listen
from ordersync.errors import ConfigError
from ordersync.platform import Channel, ChannelConfig, Notifier, NotifierConfig, Store, StoreConfig
from ordersync.secrets import scrubber

TOP_LEVEL_KEYS = ("database", "main_store", "channels", "notifiers", "plugins", "daemon",
                  "retention", "alerts")
#: Channel and notifier names: they appear in logs, URLs and store order references.


class DaemonSettings(BaseModel):
    """``daemon:``: how ``ordersync run`` serves, how often it reconciles, and how many effects
    every pass (``run``, ``sync --once``) applies at once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    listen: str = Field(
        default="127.0.0.1:8080", description="host:port for webhooks, health and metrics"
    )
    log_format: Literal["text", "json"] = Field(default="text", description="text or json lines")
    reconcile_interval: str = Field(
        default="15m", description="how often every channel is polled even when webhooks flow"
    )
    overlap: str = Field(
        default="10m", description="look-back window: each pull starts this long before the cursor"
    )
    apply_concurrency: int = Field(
        default=16, ge=1, le=256,
        description="effects of different orders applied at once (platform calls in flight); "
                    "one order's effects always apply one at a time, in order",
    )

    @field_validator("listen")
    @classmethod
    def _listen_is_host_port(cls, value: str) -> str:
        parse_listen(value)
        return value

    @field_validator("reconcile_interval")
    @classmethod
    def _interval_is_positive(cls, value: str) -> str:
        if duration(value) <= timedelta(0):
            msg = "must be longer than 0 (e.g. 15m)"
            raise ValueError(msg)
        return value

    plugin_call_timeout: str = Field(
        default="2m", description="the longest one platform call may take (0s: no limit)"
    )
    plugin_page_timeout: str = Field(
        default="5m", description="the longest one page of a platform's stream may take "
                                  "(fetch_orders, list_listings, list_products; 0s: no limit)"
    )

    @field_validator("overlap", "plugin_call_timeout", "plugin_page_timeout")
    @classmethod
    def _overlap_is_duration(cls, value: str) -> str:
        duration(value)
        return value

    @property
    def host(self) -> str:
        return parse_listen(self.listen)[0]

    @property
    def port(self) -> int:
        return parse_listen(self.listen)[1]

    @property
    def reconcile_delta(self) -> timedelta:
        """``reconcile_interval`` as a ``timedelta``."""
        return duration(self.reconcile_interval)

    @property
    def overlap_delta(self) -> timedelta:
        """``overlap`` as a ``timedelta``."""
        return duration(self.overlap)


class RetentionSettings(BaseModel):
    """``retention:``: how long buyers' personal data is kept in the state database."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    personal_data_days: int | None = Field(
        default=None, ge=1, le=36500,
        description="days after an order's last change when its buyer's name, email, phone "
                    "and addresses are removed (null: kept as long as the order)",
    )

    @property
    def personal_data(self) -> timedelta | None:
        """``personal_data_days`` as a ``timedelta`` (None: kept)."""
        days = self.personal_data_days
        return None if days is None else timedelta(days=days)


class AlertSettings(BaseModel):
    """``alerts:``: when alerts come in a storm (one cause failing many orders), one summary
    message listing them instead of one message each."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    storm_threshold: int = Field(
        default=20, ge=1,
        description="more alerts than this within storm_window are sent as one summary",
    )
    storm_window: str = Field(default="10m", description="the window storm_threshold counts in")

    @field_validator("storm_window")
    @classmethod
    def _window_is_positive(cls, value: str) -> str:
        if duration(value) <= timedelta(0):
            msg = "must be longer than 0 (e.g. 10m)"
            raise ValueError(msg)
        return value

    @property
    def window(self) -> timedelta:
        """``storm_window`` as a ``timedelta``."""
        return duration(self.storm_window)


class PluginsSettings(BaseModel):
    """``plugins:``: which installed plugins not to load."""

    model_config = ConfigDict(extra="forbid")

    disabled: list[str] = Field(
        default_factory=list, description="entry-point names of plugins not to load"
    )




@dataclass(repr=False)
class Settings:
    """A loaded, valid configuration. Plugin sections are instances of their type's ``Config``."""

    path: Path
    base_dir: Path
    database: str
    main_store: StoreConfig
    main_store_type: type[Store]
    channels: dict[str, ChannelConfig] = field(default_factory=dict)
    channel_types: dict[str, type[Channel]] = field(default_factory=dict)
    notifiers: dict[str, NotifierConfig] = field(default_factory=dict)
    notifier_types: dict[str, type[Notifier]] = field(default_factory=dict)
    plugins_disabled: list[str] = field(default_factory=list)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    alerts: AlertSettings = field(default_factory=AlertSettings)
    #: The YAML as written, references unresolved (``config show`` prints it redacted).
    raw: dict[str, Any] = field(default_factory=dict)
    #: Valid options that may not do what was meant (``option_warnings``); never fatal.
    warnings: list[ConfigError] = field(default_factory=list)
    #: Resolved credential values, kept only to mask them in anything printed.
    secret_values: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        # The database URL can carry a password and plugin configs resolved values: name only.
        return (
            f"Settings(path={str(self.path)!r}, main_store={self.main_store_type.type_name!r}, "
            f"channels={sorted(self.channels)!r}, notifiers={sorted(self.notifiers)!r})"
        )

    def poll_interval(self, channel: str) -> timedelta:
        """How often ``channel`` is polled, as a ``timedelta``."""
        return duration(self.channels[channel].poll_interval)

    def scrub(self, text: str) -> str:
        """``text`` with every resolved credential value masked as ``***``."""
        return scrubber(self.secret_values)(text)
