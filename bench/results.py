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
    rows += [_cells(r.as_json()) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cells(r: dict[str, Any]) -> tuple[str, ...]:
    """One figure of a ``results.json`` as the table's cells."""
    unit = r["unit"]
    sign = "≤" if r["goal"] == "at_most" else "≥"
    met = {True: "yes", False: "NO", None: "—"}[r.get("met")]
    return (
        r["benchmark"], r["figure"],
        _fmt(r["measured"], unit) if r["status"] == "measured" else "pending",
        f"{sign} {_fmt(r['target'], unit)}" if r["target"] is not None else "—",
        _fmt(r["ratio_to_target"]), _fmt(r["bound"], unit), _fmt(r["ratio_to_bound"]), met,
    )


def markdown(data: dict[str, Any]) -> str:
    """A run's ``results.json`` as Markdown: where and how it was measured, the figures, what
    each bound is, and the wall time of each benchmark (``python -m bench --markdown FILE``)."""
    m = data.get("machine", {})
    uncommitted = data.get("uncommitted") or []
    load_before = data.get("load_average_before") or []
    load_after = data.get("load_average_after") or []
    lines = [
        f"Measured by `{data['command']}`, finished {data['finished_at']} "
        f"in {data['duration_s'] / 60:.1f} min.",
        "",
        f"- Commit: `{data.get('commit') or 'unknown'}`"
        + (f", with uncommitted changes to {', '.join(f'`{u}`' for u in uncommitted)}"
           if uncommitted else " (no uncommitted change to core/, plugins/, bench/)"),
        f"- Machine: {m.get('cpus', '?')} CPUs ({m.get('cpu', '?')}), Python "
        f"{m.get('python', '?')}, {m.get('platform', '?')}",
        "- Load average (1, 5, 15 min) before the run: "
        + ", ".join(f"{x:.2f}" for x in load_before)
        + "; after: " + ", ".join(f"{x:.2f}" for x in load_after),
    ]
    if data.get("quick"):
        lines.append("- **--quick**: tiny sizes, a smoke run, not a measurement")
    head = ("benchmark", "figure", "measured", "target", "ratio to target", "bound",
            "ratio to bound", "met")
    lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in _cells(r)) + " |"
              for r in data["results"]]
    lines += ["", "What each bound is, and notes:", ""]
    for r in data["results"]:
        said = "; ".join(x for x in (r.get("bound_meaning"), r.get("note")) if x)
        if said:
            lines.append(f"- {r['benchmark']}, {r['figure']}: {said}")
    timings = data.get("benchmarks") or {}
    if timings:
        lines += ["", "| benchmark | wall time | 1-min load before | 1-min load after |",
                  "|---|---|---|---|"]
        lines += [f"| {name} | {t['seconds']:.0f} s | {t['load_1min_before']:.2f} | "
                  f"{t['load_1min_after']:.2f} |" for name, t in timings.items()]
    return "\n".join(lines) + "\n"


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
