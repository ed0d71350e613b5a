"""Writes the dashboard offers on OGSM (create, update, delete an action), as a mixin of the
connector.

This module owns OGSM's write JSON: the request bodies (through ``payload.py``), the vendor
fields a form is drawn from (``traffic_light`` lives only in the raw action), and the
declarations the dashboard builds its forms from (issue #19)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectors.base import (
    FieldType,
    PermanentError,
    VendorValidationError,
    WorkItemKind,
    WorkItemRecord,
    WriteField,
    WriteOperation,
)

from . import mapping
from .client import OgsmClient
from .payload import action_body, caller_field_errors

STATUS_CHOICES = (("icebox", "Icebox"), ("todo", "To do"), ("doing", "Doing"), ("done", "Done"))
TRAFFIC_LIGHT_CHOICES = (
    ("", "No traffic light"),
    ("green", "Green: on track"),
    ("orange", "Orange: needs attention"),
    ("red", "Red: off track"),
)

ACTION_FIELDS: Sequence[WriteField] = (
    WriteField("title", "Title", FieldType.TEXT, max_length=500),
    WriteField("description", "Description", FieldType.LONG_TEXT, required=False, help_text="Plain text or basic HTML."),
    WriteField("progress", "Progress", FieldType.INTEGER, required=False, min_value=0, max_value=100, help_text="0 to 100 %"),
    # A tenant may have statuses and lights of its own ("yellow"): the item's current one stays a choice.
    WriteField("status", "Status", FieldType.CHOICE, choices=STATUS_CHOICES, dynamic_choices=True),
    WriteField("traffic_light", "Traffic light", FieldType.CHOICE, required=False, choices=TRAFFIC_LIGHT_CHOICES, dynamic_choices=True),
    WriteField("due_date", "Due date", FieldType.DATE, required=False),
)
_ACTION = frozenset({str(WorkItemKind.ACTION)})

WRITE_OPERATIONS: Sequence[WriteOperation] = (
    WriteOperation(
        name="create_action",
        label="Create an action",
        item_kinds=_ACTION,
        fields=(WriteField("canvas", "Canvas", FieldType.CHOICE, dynamic_choices=True), *ACTION_FIELDS),
    ),
    WriteOperation(name="update_action", label="Edit an action", item_kinds=_ACTION, fields=ACTION_FIELDS),
    WriteOperation(name="delete_action", label="Delete an action", item_kinds=_ACTION),
)


def traffic_light(raw: Mapping[str, Any] | Any) -> str:
    """The action's traffic light as OGSM spells it ("" when none): kept only in the raw JSON."""
    light = raw.get("traffic_light") if isinstance(raw, Mapping) else None
    return light if isinstance(light, str) else ""


def action_fields(item: Any) -> dict[str, Any]:
    """An action's editable fields, under the declared names, from a WorkItemRecord or a stored row."""
    return {
        "title": item.title,
        "description": item.description or "",
        "progress": None if item.progress is None else round(float(item.progress)),
        "status": item.vendor_status or "",
        "traffic_light": traffic_light(item.raw),
        "due_date": item.due_date,
    }


class OgsmWrites:
    api: OgsmClient

    if TYPE_CHECKING:  # provided by OgsmConnector

        def _require_secret(self) -> None: ...

    def create_action(self, fields: Mapping[str, Any]) -> WorkItemRecord:
        """Create an action. ``fields`` use our names (title, description, progress, status,
        traffic_light/health, due_date, start_date, assignee, involved, labels,
        team_external_ids, strategy_ids); see connectors/ogsm/payload.py."""
        self._require_secret()
        return self._answer(lambda: self.api.create_action(action_body(fields)), fields, "POST /api/v2/actions.json")

    def update_action(self, action_id: str, changed_fields: Mapping[str, Any]) -> WorkItemRecord:
        """PATCH only ``changed_fields``; returns the whole action as the vendor now has it."""
        self._require_secret()
        if not changed_fields:
            raise ValueError("update_action needs at least one changed field")
        body = action_body(changed_fields)
        return self._answer(lambda: self.api.update_action(action_id, body), changed_fields, "PATCH /api/v2/actions/<id>.json")

    def delete_action(self, action_id: str) -> WorkItemRecord:
        """Delete an action; returns the deleted action (the vendor sends it back)."""
        self._require_secret()
        return self._answer(lambda: self.api.delete_action(action_id), {}, "DELETE /api/v2/actions/<id>.json", fallback_id=action_id)

    def _answer(self, call: Callable[[], Any], fields: Mapping[str, Any], endpoint: str, fallback_id: str | None = None) -> WorkItemRecord:
        try:
            body = call()
        except VendorValidationError as exc:
            # Field errors under the caller's names, so a form shows them next to its field.
            errors = caller_field_errors(exc.field_errors, fields)
            summary = "; ".join(f"{k} {' and '.join(v)}" for k, v in errors.items()) or exc.message
            raise VendorValidationError(
                f"OGSM refused the action: {summary}", field_errors=errors, endpoint=exc.endpoint, status=exc.status
            ) from None
        if not isinstance(body, Mapping) or mapping.id_of(body.get("id")) is None:
            if fallback_id is not None and body is None:
                # A tenant that answers a delete without a body: the delete still happened.
                return WorkItemRecord(external_id=fallback_id, work_kind=WorkItemKind.ACTION, title=f"Action {fallback_id}")
            raise PermanentError("OGSM accepted the write but did not answer with an action", endpoint=endpoint)
        return mapping.map_action(body)
