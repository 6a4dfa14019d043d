"""What a benchmark reports: one :class:`Result` per figure, the table and ``results.json``.

Every figure is given with its target and with a bound, each as a ratio:

- ``ratio_to_target`` = measured / target. For a ceiling ("under 1 ms") the target is met when
  the ratio is at most 1; for a floor ("at least 95 % of the bound") when it is at least 1.
- ``ratio_to_bound`` = measured / bound, where the bound is the best the figure could be: the
  platform's limit (orders/s the Shopify bucket allows), or the floor of the work itself (the
  CPU of the pure steps alone, the RSS of an idle process). What each bound is, is in
  ``docs/performance.md`` and in each result's ``bound_meaning``.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Goal = Literal["at_most", "at_least"]


@dataclass
class Result:
    benchmark: str
    figure: str
    unit: str
    measured: float | None
    target: float | None
    goal: Goal
    bound: float | None = None
    bound_meaning: str = ""
    #: "measured", or "pending" with the reason in ``note`` (the figure cannot be taken yet).
    status: Literal["measured", "pending"] = "measured"
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio_to_target(self) -> float | None:
        if self.measured is None or not self.target:
            return None
        return self.measured / self.target

    @property
    def ratio_to_bound(self) -> float | None:
        if self.measured is None or not self.bound:
            return None
        return self.measured / self.bound

    @property
    def met(self) -> bool | None:
        ratio = self.ratio_to_target
        if ratio is None:
            return None
        return ratio <= 1 if self.goal == "at_most" else ratio >= 1

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio_to_target=_round(self.ratio_to_target),
                    ratio_to_bound=_round(self.ratio_to_bound), met=self.met)
        return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def table(results: list[Result]) -> str:
    """The results as a fixed-width text table."""
    head = ("benchmark", "figure", "measured", "target", "ratio to target", "bound",
            "ratio to bound", "met")
    rows = [head]
    for r in results:
        sign = "≤" if r.goal == "at_most" else "≥"
        met = {True: "yes", False: "NO", None: "—"}[r.met]
        rows.append((
            r.benchmark, r.figure,
            _fmt(r.measured, r.unit) if r.status == "measured" else "pending",
            f"{sign} {_fmt(r.target, r.unit)}" if r.target is not None else "—",
            _fmt(r.ratio_to_target), _fmt(r.bound, r.unit), _fmt(r.ratio_to_bound), met,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    import os

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": sys.version.split()[0],
            "platform": platform.platform()}


def write(path: Path, results: list[Result], command: str, seconds: float,
          extra: dict[str, Any] | None = None) -> None:
    data = {
        "command": command,
        "finished_at": datetime.now(UTC).replace(microsecond=0).isoformat(),
        "duration_s": round(seconds, 1),
        "machine": machine(),
        **(extra or {}),
        "results": [r.as_json() for r in results],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
