"""The configuration as ``config show`` prints it: as written, every credential masked."""

from __future__ import annotations

import copy
import re
from typing import Any

from ordersync.config.settings import Settings
from ordersync.secrets import MASK, redact, scrub_tree, scrubber


def redacted_config(settings: Settings) -> dict[str, Any]:
    """The YAML as written, with every credential shown as ``***``.

    ``Secret`` fields are masked whatever they hold, the database password too, and any
    resolved credential value found elsewhere (pasted into another key) is masked as well.
    Other ``${...}`` references are shown as written, unresolved.
    """
    data: dict[str, Any] = copy.deepcopy(settings.raw)
    store = data.get("main_store")
    if isinstance(store, dict):
        data["main_store"] = redact(settings.main_store_type.Config, store)
    for key, types_ in (("channels", settings.channel_types),
                        ("notifiers", settings.notifier_types)):
        sections = data.get(key)
        if isinstance(sections, dict):
            for name, cls in types_.items():
                if isinstance(sections.get(name), dict):
                    sections[name] = redact(cls.Config, sections[name])
    database = data.get("database")
    if isinstance(database, str):
        data["database"] = re.sub(
            r"^([^:/]+://[^:@/]*:)(\$\{[^{}]*\}|[^@/]*)(@)", rf"\g<1>{MASK}\g<3>", database
        )
    result: dict[str, Any] = scrub_tree(data, scrubber(settings.secret_values))
    return result
