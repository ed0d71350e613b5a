"""Write payloads: the dashboard's field names -> an OGSM action body, and the vendor's field
errors back to the dashboard's field names (so a form can show them next to its field).

Callers may use our vocabulary (``state``/``health`` values, ``due_date``) or the vendor's own
values (``status: "doing"``, ``traffic_light: "orange"``); both are translated here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from connectors.base import Health, State
from connectors.ogsm.mapping import sanitize_html

# Our state -> the vendor status name written for it (NOTES.md assumptions).
STATE_STATUS: Mapping[str, str] = {State.NOT_STARTED: "todo", State.ACTIVE: "doing", State.DONE: "done"}
# Our health -> the traffic light written for it.
HEALTH_TRAFFIC_LIGHT: Mapping[str, str | None] = {
    Health.ON_TRACK: "green",
    Health.NEEDS_ATTENTION: "orange",
    Health.OFF_TRACK: "red",
    Health.UNKNOWN: None,
}

# Accepted caller field -> vendor field.
FIELD_NAMES: Mapping[str, str] = {
    "title": "title",
    "description": "description",
    "progress": "progress",
    "status": "status",
    "state": "status",
    "traffic_light": "traffic_light",
    "health": "traffic_light",
    "due_date": "due",
    "due": "due",
    "start_date": "start",
    "start": "start",
    "assignee": "assignee",
    "owner": "assignee",
    "involved": "involved",
    "labels": "labels",
    "team_external_ids": "ogsm_canvases",
    "canvas_ids": "ogsm_canvases",
    "ogsm_canvases": "ogsm_canvases",
    "strategy_ids": "strategies",
    "strategies": "strategies",
    "archived": "archived",
}


class PayloadError(ValueError):
    """The caller passed a field the OGSM action API does not have."""


def _date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _id(value: Any) -> Any:
    """Canvas and strategy ids are numbers at the vendor; keep anything else as given."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return value


def _person(value: Any) -> Any:
    if value is None or isinstance(value, Mapping):
        return value
    return {"name": str(value)}


def _named_list(values: Any) -> Any:
    if not isinstance(values, list | tuple):
        return values
    return [v if isinstance(v, Mapping) else {"name": str(v)} for v in values]


def _status(value: Any) -> Any:
    if isinstance(value, Mapping) or value is None:
        return value
    text = str(value)
    return {"name": STATE_STATUS.get(text, text)}


def _traffic_light(value: Any) -> Any:
    if isinstance(value, str) and value in HEALTH_TRAFFIC_LIGHT:
        return HEALTH_TRAFFIC_LIGHT[value]
    return value


def _progress(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def action_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Caller fields -> the JSON body of a POST or PATCH (only the fields given)."""
    unknown = sorted(k for k in fields if k not in FIELD_NAMES)
    if unknown:
        raise PayloadError(f"unknown OGSM action field(s): {', '.join(unknown)}; known: {', '.join(sorted(FIELD_NAMES))}")
    body: dict[str, Any] = {}
    for key, value in fields.items():
        vendor_key = FIELD_NAMES[key]
        if vendor_key in body:
            raise PayloadError(f"field {key!r} repeats {vendor_key!r} given under another name")
        if vendor_key == "status":
            if value == State.ARCHIVED:
                body["archived"] = True
                continue
            body[vendor_key] = _status(value)
        elif vendor_key == "traffic_light":
            body[vendor_key] = _traffic_light(value)
        elif vendor_key in ("due", "start"):
            body[vendor_key] = _date(value)
        elif vendor_key == "assignee":
            body[vendor_key] = _person(value)
        elif vendor_key in ("involved", "labels"):
            body[vendor_key] = _named_list(value)
        elif vendor_key in ("ogsm_canvases", "strategies"):
            body[vendor_key] = [{"id": _id(v)} for v in value] if isinstance(value, list | tuple) else value
        elif vendor_key == "description":
            # Never write unsafe HTML into the vendor app either.
            body[vendor_key] = sanitize_html(value) if isinstance(value, str) else value
        elif vendor_key == "progress":
            body[vendor_key] = _progress(value)
        else:
            body[vendor_key] = value
    return body


def caller_field_errors(vendor_errors: Mapping[str, list[str]], fields: Mapping[str, Any]) -> dict[str, list[str]]:
    """Vendor field names in a 422 answer -> the names the caller used (unknown ones kept)."""
    back = {FIELD_NAMES[k]: k for k in fields if k in FIELD_NAMES}
    return {back.get(key, key): list(messages) for key, messages in vendor_errors.items()}
