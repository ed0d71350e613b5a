"""GET-parameter filters: parse and validate, apply in SQL, and describe themselves as chips.

Every filter lives in the URL so each view can be bookmarked. Bad input never errors: the bad
value is dropped and the page says why ("Unknown health 'green'; choose one of ...").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypedDict, cast
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from connectors.base import HEALTH_LABELS, STATE_LABELS, WorkItemKind
from connectors.registry import VENDOR_CHOICES
from dashboard.okrs.models import Team, WorkItem
from dashboard.okrs.pace import behind_pace
from dashboard.okrs.selectors import overdue_q, stale_q
from dashboard.people.selectors import owner_filter_q

VENDOR_LABELS: Mapping[str, str] = dict(VENDOR_CHOICES)
KIND_LABELS: Mapping[str, str] = {k.value: k.value.replace("_", " ").capitalize() for k in WorkItemKind}
DUE_LABELS: Mapping[str, str] = {
    "overdue": "Overdue",
    "week": "Due within 7 days",
    "month": "Due within 30 days",
    "none": "No due date",
}
PACE_LABELS: Mapping[str, str] = {"behind": "Behind pace"}
MAX_TEXT = 200
# Parameters that are not filters but belong in links (sort order, view mode).
KEEP_PARAMS = ("sort", "view")


class ChosenTeam(TypedDict):
    """The team filter's team: ``Team.objects.values("id", "name", "path", "vendor")``."""

    id: int
    name: str
    path: str
    vendor: str


@dataclass(frozen=True)
class Chip:
    label: str
    remove_url: str


@dataclass
class FilterField:
    name: str
    label: str
    kind: str  # "choice", "text", "flag", "team"
    choices: Mapping[str, str] = field(default_factory=dict)
    multiple: bool = True


def _choice(name: str, label: str, choices: Mapping[str, str], multiple: bool = True) -> FilterField:
    return FilterField(name, label, "choice", choices, multiple)


VENDOR = _choice("vendor", "Vendor", VENDOR_LABELS)
HEALTH = _choice("health", "Health", {str(k): v for k, v in HEALTH_LABELS.items()})
STATE = _choice("state", "State", {str(k): v for k, v in STATE_LABELS.items()})
KIND = _choice("kind", "Kind", KIND_LABELS)
DUE = _choice("due", "Due", DUE_LABELS, multiple=False)
OWNER = FilterField("owner", "Owner", "text")
QUERY = FilterField("q", "Title", "text")
STALE = FilterField("stale", "Stale", "flag")
OVERDUE = FilterField("overdue", "Overdue", "flag")
TEAM = FilterField("team", "Team", "team")
PACE = _choice("pace", "Pace", PACE_LABELS, multiple=False)  # OKR Hub's reading (dashboard/okrs/pace.py)


class FilterSet:
    """Parsed filters for one list. ``values`` holds only valid, active values."""

    fields: tuple[FilterField, ...] = ()

    def __init__(self, params: QueryDict, *, path: str, teams: QuerySet[Team] | None = None) -> None:
        self.params = params
        self.path = path
        self.errors: list[str] = []
        self.values: dict[str, Any] = {}
        self.team: ChosenTeam | None = None
        for f in self.fields:
            self._parse(f, teams)

    # -- parsing -------------------------------------------------------------------------------
    def _parse(self, f: FilterField, teams: QuerySet[Team] | None) -> None:
        raw = [v.strip() for v in self.params.getlist(f.name) if v.strip()]
        if not raw:
            return
        if f.kind == "choice":
            good = []
            for value in raw:
                if value in f.choices:
                    if value not in good:
                        good.append(value)
                else:
                    self.errors.append(f"Unknown {f.label.lower()} “{value[:40]}”; choose one of: {', '.join(f.choices.values())}.")
            if good:
                self.values[f.name] = good if f.multiple else good[:1]
        elif f.kind == "text":
            value = raw[0][:MAX_TEXT]
            self.values[f.name] = value
        elif f.kind == "flag":
            if raw[0] in ("1", "true", "yes", "on"):
                self.values[f.name] = True
            elif raw[0] not in ("0", "false", "no", "off"):
                self.errors.append(f"{f.label} takes 1 or 0, not “{raw[0][:40]}”.")
        elif f.kind == "team":
            team = None
            if raw[0].isdigit() and teams is not None:
                team = teams.filter(pk=int(raw[0])).values("id", "name", "path", "vendor").first()
            if team is None:
                self.errors.append(f"No team with id “{raw[0][:40]}” is visible to you; the team filter was ignored.")
            else:
                self.team = team
                self.values[f.name] = team["id"]

    # -- describing ----------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return bool(self.values)

    def selected(self, name: str) -> list[str]:
        value = self.values.get(name)
        if value is None:
            return []
        return [str(v) for v in value] if isinstance(value, list) else [str(value)]

    def form_fields(self) -> list[dict[str, Any]]:
        """What the filter form needs per field: kind, label, choices, current value(s)."""
        rows = []
        for f in self.fields:
            selected = self.selected(f.name)
            rows.append(
                {
                    "name": f.name,
                    "label": f.label,
                    "kind": f.kind,
                    "choices": f.choices,
                    "selected": selected,
                    "value": selected[0] if selected else "",
                }
            )
        return rows

    def _pairs(self, *, without: tuple[str, str | None] | None = None, keep_extra: bool = True) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        value: str | None  # a selected value, then an extra parameter's
        for f in self.fields:
            for value in self.selected(f.name):
                if f.kind == "flag":
                    value = "1"
                if without and without[0] == f.name and (without[1] is None or without[1] == value):
                    continue
                pairs.append((f.name, value))
        if keep_extra:
            for name in KEEP_PARAMS:
                value = self.params.get(name)
                if value:
                    pairs.append((name, value[:40]))
        return pairs

    def querystring(self, *, keep_extra: bool = True) -> str:
        """The active filters (and sort/view) as a query string, without the leading '?'."""
        return urlencode(self._pairs(keep_extra=keep_extra))

    def url(self, path: str | None = None, *, keep_extra: bool = True) -> str:
        query = self.querystring(keep_extra=keep_extra)
        return (path or self.path) + (f"?{query}" if query else "")

    def chips(self) -> list[Chip]:
        chips = []
        for f in self.fields:
            for value in self.selected(f.name):
                if f.kind == "choice":
                    label = f"{f.label}: {f.choices[value]}"
                elif f.kind == "flag":
                    label, value = f.label, "1"
                elif f.kind == "team":
                    label = f"Team: {self.team['name'] if self.team else value}"
                else:
                    label = f"{f.label}: “{value}”"
                query = urlencode(self._pairs(without=(f.name, value)))
                chips.append(Chip(label, self.path + (f"?{query}" if query else "")))
        return chips

    def clear_url(self) -> str:
        query = urlencode([(n, self.params[n][:40]) for n in KEEP_PARAMS if self.params.get(n)])
        return self.path + (f"?{query}" if query else "")

    # -- applying ------------------------------------------------------------------------------
    appliers: Mapping[str, Callable[[FilterSet, QuerySet[Any], Any], QuerySet[Any]]] = {}

    def apply(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        for name, value in self.values.items():
            applier = self.appliers.get(name)
            if applier is not None:
                qs = applier(self, qs, value)
        return qs


def _owner_q(value: str) -> Q:
    """Owner name contains ``value``, or the owner is (at any vendor) the person across vendors
    named exactly ``value`` (issue #18): see :func:`dashboard.people.selectors.owner_filter_q`."""
    return owner_filter_q(value)


def _due_q(value: str) -> Q:
    today = timezone.localdate()
    if value == "overdue":
        return overdue_q(today)
    if value == "week":
        return Q(due_date__gte=today, due_date__lte=today + timedelta(days=7))
    if value == "month":
        return Q(due_date__gte=today, due_date__lte=today + timedelta(days=30))
    return Q(due_date__isnull=True)


def _pace(fs: FilterSet, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
    return behind_pace(qs)  # the one value: "behind"


class GoalFilters(FilterSet):
    fields = (QUERY, VENDOR, TEAM, HEALTH, STATE, OWNER, STALE, OVERDUE, PACE)
    appliers = {
        "q": lambda fs, qs, v: qs.filter(title__icontains=v),
        "vendor": lambda fs, qs, v: qs.filter(vendor__in=v),
        "team": lambda fs, qs, v: qs.filter(team__path__startswith=cast("ChosenTeam", fs.team)["path"]),  # set with the "team" value
        "health": lambda fs, qs, v: qs.filter(health__in=v),
        "state": lambda fs, qs, v: qs.filter(state__in=v),
        "owner": lambda fs, qs, v: qs.filter(_owner_q(v)),
        "stale": lambda fs, qs, v: qs.filter(stale_q()),
        "overdue": lambda fs, qs, v: qs.filter(overdue_q()),
        "pace": _pace,
    }


class OverviewFilters(FilterSet):
    """The overview's "Needs attention" list: only the pace filter (the counters stay whole)."""

    fields = (PACE,)
    appliers = {"pace": _pace}


class TreeFilters(FilterSet):
    """Team tree: vendor limits the trees; the others limit which goals roll up (and so which
    teams show: a team without matching goals in its subtree is hidden, its ancestors stay)."""

    fields = (VENDOR, TEAM, HEALTH, OWNER, STALE)
    appliers = {
        "vendor": lambda fs, qs, v: qs.filter(vendor__in=v),
        "team": lambda fs, qs, v: qs.filter(team__path__startswith=cast("ChosenTeam", fs.team)["path"]),  # set with the "team" value
        "health": lambda fs, qs, v: qs.filter(health__in=v),
        "owner": lambda fs, qs, v: qs.filter(_owner_q(v)),
        "stale": lambda fs, qs, v: qs.filter(stale_q()),
    }

    @property
    def limits_goals(self) -> bool:
        return any(name in self.values for name in ("health", "owner", "stale"))


def _work_item_team(fs: FilterSet, qs: QuerySet[WorkItem], value: Any) -> QuerySet[WorkItem]:
    assert fs.team is not None
    through = WorkItem.teams.through
    in_subtree = through.objects.filter(workitem_id=OuterRef("pk"), team__path__startswith=fs.team["path"])
    return qs.filter(Exists(in_subtree))


class WorkItemFilters(FilterSet):
    # Owner matches owners only, never the people merely involved (OGSM's ``involved``).
    fields = (QUERY, VENDOR, KIND, TEAM, STATE, HEALTH, OWNER, DUE, STALE)
    appliers = {
        "q": lambda fs, qs, v: qs.filter(title__icontains=v),
        "vendor": lambda fs, qs, v: qs.filter(vendor__in=v),
        "kind": lambda fs, qs, v: qs.filter(kind__in=v),
        "team": _work_item_team,
        "state": lambda fs, qs, v: qs.filter(state__in=v),
        "health": lambda fs, qs, v: qs.filter(health__in=v),
        "owner": lambda fs, qs, v: qs.filter(_owner_q(v)),
        "due": lambda fs, qs, v: qs.filter(_due_q(v[0])),
        # stale_at is only set for kinds whose vendor checks in: OGSM actions never match.
        "stale": lambda fs, qs, v: qs.filter(stale_q()),
    }


class SearchFilters(FilterSet):
    fields = (VENDOR,)
    appliers = {"vendor": lambda fs, qs, v: qs.filter(vendor__in=v)}


def search_q(text: str) -> Q:
    """Title or owner contains ``text`` (case-insensitive)."""
    return Q(title__icontains=text) | Q(owners_text__icontains=text.lower())
