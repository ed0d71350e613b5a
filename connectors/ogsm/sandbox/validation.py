"""Action input validation, Rails-style: ``{"field": ["message", ...]}`` answered with 422.

Unknown fields are ignored (as Rails strong parameters do); ``id`` is never taken from a body.
"""

from __future__ import annotations

from datetime import date
from typing import Any

TRAFFIC_LIGHTS = ("green", "orange", "amber", "yellow", "red")
MAX_TITLE = 255


def _is_date(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 10:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _named_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) and isinstance(v.get("name"), str) and v["name"].strip() for v in value)


def _id_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, dict) and isinstance(v.get("id"), int) and not isinstance(v["id"], bool) for v in value
    )


def validate_action(
    body: dict[str, Any], *, creating: bool, current: dict[str, Any] | None, statuses: tuple[str, ...], canvases: list[int]
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Returns (the fields to store, field errors). ``current`` is the stored action on PATCH."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if "title" in body or creating:
        title = body.get("title")
        if title is None or (isinstance(title, str) and not title.strip()):
            fail("title", "can't be blank")
        elif not isinstance(title, str):
            fail("title", "must be a string")
        elif len(title) > MAX_TITLE:
            fail("title", f"is too long (maximum is {MAX_TITLE} characters)")
        else:
            clean["title"] = title.strip()

    if "description" in body:
        if body["description"] is not None and not isinstance(body["description"], str):
            fail("description", "must be a string")
        else:
            clean["description"] = body["description"]

    for name in ("start", "due"):
        if name in body:
            if body[name] is None:
                clean[name] = None
            elif _is_date(body[name]):
                clean[name] = body[name]
            else:
                fail(name, "is not a valid date (use YYYY-MM-DD)")
    start = clean.get("start", (current or {}).get("start"))
    due = clean.get("due", (current or {}).get("due"))
    if ("start" in clean or "due" in clean) and start and due and due < start:
        fail("due", "must be on or after the start date")

    if "progress" in body:
        progress = body["progress"]
        if isinstance(progress, bool) or not isinstance(progress, int | float):
            fail("progress", "is not a number")
        elif isinstance(progress, float) and not progress.is_integer():
            fail("progress", "must be an integer")
        elif not 0 <= progress <= 100:
            fail("progress", "must be between 0 and 100")
        else:
            clean["progress"] = int(progress)

    if "traffic_light" in body:
        light = body["traffic_light"]
        if light is None or light in TRAFFIC_LIGHTS:
            clean["traffic_light"] = light
        else:
            fail("traffic_light", f"is not included in the list ({', '.join(TRAFFIC_LIGHTS)} or null)")

    if "status" in body or creating:
        status = body.get("status", {"name": statuses[0]} if creating else None)
        if not (isinstance(status, dict) and isinstance(status.get("name"), str)):
            fail("status", 'must be an object with a name, e.g. {"name": "doing"}')
        elif status["name"] not in statuses:
            fail("status", f"is not included in the list ({', '.join(statuses)})")
        else:
            clean["status"] = {"name": status["name"]}

    if "assignee" in body:
        person = body["assignee"]
        if person is None or (isinstance(person, dict) and isinstance(person.get("name"), str) and person["name"].strip()):
            clean["assignee"] = {"name": person["name"].strip()} if person else None
        else:
            fail("assignee", "must be an object with a name")

    for name in ("involved", "labels"):
        if name in body:
            if _named_list(body[name]):
                clean[name] = [{"name": v["name"].strip()} for v in body[name]]
            else:
                fail(name, "must be a list of objects with a name")

    if "strategies" in body:
        if _id_list(body["strategies"]):
            clean["strategies"] = [{"id": v["id"]} for v in body["strategies"]]
        else:
            fail("strategies", "must be a list of objects with a numeric id")

    if "ogsm_canvases" in body or creating:
        value = body.get("ogsm_canvases")
        if value is None or value == []:
            fail("ogsm_canvases", "can't be blank")
        elif not _id_list(value):
            fail("ogsm_canvases", "must be a list of objects with a numeric id")
        else:
            unknown = [v["id"] for v in value if v["id"] not in canvases]
            if unknown:
                fail("ogsm_canvases", f"contains unknown canvas ids: {', '.join(map(str, unknown))}")
            else:
                clean["ogsm_canvases"] = [{"id": v["id"], "row_order": v.get("row_order", 1)} for v in value]

    if "archived" in body:
        if isinstance(body["archived"], bool):
            clean["archived"] = body["archived"]
        else:
            fail("archived", "must be true or false")

    return clean, errors
