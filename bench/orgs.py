"""Org sizes: what "tiny", "small", "medium" and "large" mean for each benchmark.

Sync (issue #6): ``large`` is the target org, a North org of 300 teams, 2,000 goals, 6,000 key
results and 1,000 initiatives; smaller sizes keep the same proportions (for the chart). The other
vendors get the same number of teams (Operately spaces, OGSM canvases) with their sandboxes'
own per-team shapes.

Pages (issue #8): ``large`` is 500 teams, 5,000 goals, 15,000 key results and 5,000 work items;
each size below keeps the proportions. A pages run compares the chosen size with the one below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SIZES = ("tiny", "small", "medium", "large")
VENDORS = ("north", "operately", "ogsm")
TARGET_SIZE = "large"  # where the ratios are gated

SYNC_TEAMS = {"tiny": 3, "small": 20, "medium": 100, "large": 300}
PAGE_TEAMS = {"tiny": 5, "small": 50, "medium": 200, "large": 500}


def check_size(size: str) -> str:
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, got {size!r}")
    return size


def sync_sandbox_options(vendor: str, size: str) -> dict[str, Any]:
    """Keyword arguments for ``connectors.<vendor>.sandbox.build`` at ``size``."""
    teams = SYNC_TEAMS[check_size(size)]
    if vendor == "north":
        # 300 teams : 2,000 goals : 6,000 key results : 1,000 initiatives, at every size.
        return {"size": teams, "goals": round(teams * 20 / 3), "key_results": teams * 20, "initiatives": round(teams * 10 / 3)}
    if vendor in ("operately", "ogsm"):
        return {"size": teams}
    raise ValueError(f"vendor must be one of {', '.join(VENDORS)}, got {vendor!r}")


@dataclass(frozen=True)
class PageOrg:
    teams: int
    goals: int
    key_results: int
    work_items: int
    check_ins_per_goal: int = 3
    snapshots_per_goal: int = 4

    @property
    def label(self) -> str:
        return f"{self.teams:,} teams, {self.goals:,} goals, {self.key_results:,} KRs, {self.work_items:,} work items"


def page_org(size: str) -> PageOrg:
    teams = PAGE_TEAMS[check_size(size)]
    return PageOrg(teams=teams, goals=teams * 10, key_results=teams * 30, work_items=teams * 10)


def smaller(size: str) -> str:
    """The size a pages run compares ``size`` with (the query count must not change)."""
    index = SIZES.index(check_size(size))
    if index == 0:
        raise ValueError("pages compare two sizes: use small, medium or large")
    return SIZES[index - 1]
