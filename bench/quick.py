"""``python -m bench --quick``: the CI gate on sync ratios (issue #20).

The sync benchmark at size ``small`` for every vendor, three runs each; from it, the ratio of each
full sync to its network floor and to its total floor (network + database). Those ratios are
compared with the committed baseline (``bench/baseline.json``): a ratio above baseline x (1 +
margin) fails the gate. Absolute times are never gated: the machine is shared, and both sides of a
ratio see the same machine within one run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT, BenchError, Section

BASELINE = ROOT / "bench" / "baseline.json"
QUICK_SIZE = "small"
QUICK_RUNS = 3


@dataclass(frozen=True)
class Gate:
    name: str
    measured: float | None  # None: the run did not measure this ratio
    baseline: float
    margin: float

    @property
    def limit(self) -> float:
        return self.baseline * (1 + self.margin)

    @property
    def passed(self) -> bool:
        return self.measured is not None and self.measured <= self.limit


def ratios(data: list[dict[str, Any]]) -> dict[str, float]:
    """The gated ratios of a sync section's data: per vendor, full sync / network and / total floor."""
    found: dict[str, float] = {}
    for row in data:
        if row["run"] == "full":
            found[f"{row['vendor']} full sync / network floor"] = float(row["ratio"])
            found[f"{row['vendor']} full sync / total floor"] = float(row["total_ratio"])
    return found


def gate(measured: dict[str, float], baseline: dict[str, Any]) -> list[Gate]:
    """One gate per baseline ratio; the measured ratio passes when at most baseline x (1 + margin)."""
    margin = float(baseline["margin"])
    return [Gate(name, measured.get(name), float(value), margin) for name, value in baseline["ratios"].items()]


def load_baseline(path: Path = BASELINE) -> dict[str, Any]:
    try:
        found: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BenchError(f"cannot read the quick baseline {path}: {exc}") from None
    if "margin" not in found or not isinstance(found.get("ratios"), dict):
        raise BenchError(f"{path} needs 'margin' and 'ratios'")
    return found


def run(url: str, vendors: list[str], concurrency: int, runs: int = QUICK_RUNS, baseline_path: Path = BASELINE) -> Section:
    from bench import sync

    baseline = load_baseline(baseline_path)
    section = sync.run(url, vendors, [QUICK_SIZE], concurrency, runs=runs, resync=False)  # full syncs only: the gate is on their ratios
    section.title = f"Quick gate (issue #20): sync ratios at size {QUICK_SIZE} against {baseline_path.name}"
    measured = ratios(section.data)
    gated = [g for g in gate(measured, baseline) if g.name.split(" ", 1)[0] in vendors]
    for g in gated:
        shown = "not measured" if g.measured is None else f"{g.measured:.2f}x"
        section.check("#20", f"quick: {g.name}", shown, f"<= {g.limit:.2f}x (baseline {g.baseline:.2f}x + {g.margin:.0%})", g.passed)
    section.notes.append(f"quick ratios: {json.dumps({k: round(v, 3) for k, v in measured.items()})}")
    return section
