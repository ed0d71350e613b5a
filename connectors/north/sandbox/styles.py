"""How the sandbox spells the object bodies North does not publish (``body_style`` on ``build``).

The state always holds the shapes of NOTES.md (``name``, ``progress`` as a 0..1 fraction, event
kind ``check_in``); a style changes only what is served, so tests compare what a client read with
the state. ``body_style`` is ``+``-joined words:

* ``documented`` (the default): the NOTES.md shapes;
* ``title``: ``title`` instead of ``name`` on goals, key results and initiatives;
* ``percent``: every ``progress`` (items and check-in events) as a percentage, 0..100;
* ``check-in`` or ``checkin``: that spelling of the check-in event kind;
* ``mixed``: per item, chosen from its id (so a run is reproducible): ``name`` or ``title``,
  fraction or percent (an item's events follow its scale), and per event one of the three
  check-in spellings.

A key result's ``contribution`` is a percentage in every style (NOTES.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CHECK_IN_SPELLINGS = ("check_in", "check-in", "checkin")
WORDS = ("documented", "title", "percent", *CHECK_IN_SPELLINGS, "mixed")


@dataclass(frozen=True)
class BodyStyle:
    title: bool = False
    percent: bool = False
    check_in_kind: str = "check_in"
    mixed: bool = False

    @classmethod
    def parse(cls, text: str | None) -> BodyStyle:
        words = [w.strip().lower() for w in (text or "documented").split("+") if w.strip()]
        unknown = [w for w in words if w not in WORDS]
        if unknown:
            raise ValueError(f"unknown North body_style word(s) {', '.join(unknown)}; known: {', '.join(WORDS)} (join with +)")
        spellings = [w for w in words if w in CHECK_IN_SPELLINGS]
        if len(spellings) > 1:
            raise ValueError("body_style names more than one check-in spelling")
        return cls(
            title="title" in words,
            percent="percent" in words,
            check_in_kind=spellings[0] if spellings else "check_in",
            mixed="mixed" in words,
        )

    @property
    def documented(self) -> bool:
        return self == BodyStyle()

    def _uses_title(self, item_id: int) -> bool:
        return self.title or (self.mixed and item_id % 2 == 1)

    def _uses_percent(self, item_id: int) -> bool:
        return self.percent or (self.mixed and (item_id // 2) % 2 == 1)

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """A goal, key result or initiative as served."""
        if self.documented:
            return item
        served = dict(item)
        if self._uses_title(item["id"]) and "name" in served:
            served["title"] = served.pop("name")
        if self._uses_percent(item["id"]):
            served["progress"] = _percent(served.get("progress"))
        return served

    def event(self, item_id: int, event: dict[str, Any]) -> dict[str, Any]:
        """One event of the item ``item_id`` as served."""
        if self.documented or event.get("kind") != "check_in":
            return event
        served = dict(event)
        served["kind"] = CHECK_IN_SPELLINGS[int(event["id"]) % 3] if self.mixed else self.check_in_kind
        data = served.get("data")
        if isinstance(data, dict) and self._uses_percent(item_id):
            served["data"] = {**data, "progress": _percent(data.get("progress"))}
        return served


def _percent(fraction: Any) -> Any:
    if isinstance(fraction, int | float) and not isinstance(fraction, bool):
        return round(fraction * 100, 4)
    return fraction
