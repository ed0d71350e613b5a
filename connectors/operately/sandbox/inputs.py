"""Input parsing and validation from the API catalogue of one profile (CONTRACT.md §1).

``ParseInputs`` runs before authentication: type errors, unknown fields and undecodable ids are
answered even without a token. Required fields are checked later (after the read-only check).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from .ids import decode_company, decode_short

CATALOG_DIR = Path(__file__).parent / "catalogs"
PROFILES = ("2026-03", "2026-08")
NOT_FOUND_BODY = {"error": "Not found", "message": "The requested resource was not found"}


class ApiError(Exception):
    """An answer decided before the handler runs: status, body, content type (None = not set)."""

    def __init__(self, status: int, body: str | dict[str, Any], content_type: str | None = None) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = json.dumps(body) if isinstance(body, dict) else body
        self.content_type = content_type


def bad_request(message: str, content_type: str | None = None) -> ApiError:
    return ApiError(400, {"error": "Bad request", "message": message}, content_type)


@cache
def load_catalog(profile: str) -> dict[str, Any]:
    if profile not in PROFILES:
        raise ValueError(f"unknown Operately API profile {profile!r}; use one of {', '.join(PROFILES)}")
    with open(CATALOG_DIR / f"{profile}.json", encoding="utf-8") as fh:
        catalog: dict[str, Any] = json.load(fh)
    catalog["all_enum_values"] = {v for values in catalog["enums"].values() for v in values}
    return catalog


class InputParser:
    def __init__(self, profile: str) -> None:
        self.profile = profile
        self.catalog = load_catalog(profile)

    def endpoint(self, name: str) -> dict[str, Any] | None:
        spec: dict[str, Any] | None = self.catalog["endpoints"].get(name)
        return spec

    # ---- query strings --------------------------------------------------------------------

    def parse_query(self, spec: dict[str, Any], args: list[tuple[str, str]]) -> dict[str, Any]:
        fields = {f[0]: f for f in spec["inputs"]}
        raw: dict[str, Any] = {}
        for key, value in args:
            if key.endswith("[]"):
                raw.setdefault(key[:-2], []).append(value)
            elif "[" in key and key.endswith("]"):
                base, sub = key[:-1].split("[", 1)
                raw.setdefault(base, {})[sub] = value
            else:
                raw[key] = value
        out: dict[str, Any] = {}
        for key, value in raw.items():
            if key not in fields:
                raise bad_request(f"Unknown input field: {key}")
            _, typ, _, _ = fields[key]
            out[key] = self.from_text(typ, value)
        return out

    def from_text(self, typ: Any, value: Any) -> Any:
        if isinstance(typ, list):
            if value == "":
                return []
            items = value if isinstance(value, list) else [value]
            return [self.from_text(typ[0], v) for v in items]
        if isinstance(value, dict):
            return self.object_value(typ, value, text=True)
        if typ == "boolean":
            if value not in ("true", "false"):
                raise bad_request("Unknown input type: boolean")
            return value == "true"
        if typ in ("integer", "float", "date", "datetime", "naive_datetime"):
            try:
                if typ == "integer":
                    return int(value)
                if typ == "float":
                    return float(value)
                return date.fromisoformat(value) if typ == "date" else datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                # an unhandled {:error, 422} in the plug: a 500 without a content type
                raise ApiError(500, {"error": "Internal server error"}) from None
        return self.scalar(typ, value)

    # ---- JSON bodies ----------------------------------------------------------------------

    def parse_body(self, spec: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        return self.object_fields(spec["inputs"], body, text=False)

    def object_fields(self, fields_spec: list[Any], body: dict[str, Any], *, text: bool) -> dict[str, Any]:
        fields = {f[0]: f for f in fields_spec}
        out: dict[str, Any] = {}
        for key, value in body.items():
            if key not in fields:
                raise bad_request(f"Unknown input field: {key}")
            _, typ, _, nullable = fields[key]
            if value is None:
                if not nullable and typ != "string":
                    raise bad_request(f"Field '{key}' cannot be null")
                out[key] = None
                continue
            out[key] = self.from_text(typ, value) if text else self.from_json(typ, value)
        return out

    def object_value(self, typ: str, value: Any, *, text: bool) -> dict[str, Any]:
        fields = self.catalog["objects"].get(typ)
        if fields is None or not isinstance(value, dict):
            raise bad_request(f"Unknown input type: {typ}")
        return self.object_fields(fields, value, text=text)

    def from_json(self, typ: Any, value: Any) -> Any:
        if isinstance(typ, list):
            if not isinstance(value, list):
                raise bad_request(f"Unknown input type: list of {typ[0] if isinstance(typ[0], str) else 'list'}")
            return [self.from_json(typ[0], v) for v in value]
        if typ in self.catalog["objects"]:
            return self.object_value(typ, value, text=False)
        if typ == "boolean":
            if not isinstance(value, bool):
                raise bad_request("Unknown input type: boolean")
            return value
        if typ == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad_request("Unknown input type: integer")
            return value
        if typ == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise bad_request("Unknown input type: float")
            return float(value)
        if typ == "json" and not isinstance(value, str):
            # rich text must be a JSON *string*; an object crashes the server (§1)
            raise ApiError(500, {"errors": {"detail": "Internal Server Error"}}, "application/json")
        if typ in ("date", "datetime", "naive_datetime"):
            if not isinstance(value, str):
                raise bad_request(f"Unknown input type: {typ}")
            try:
                return date.fromisoformat(value) if typ == "date" else datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise bad_request(f"Unknown input type: {typ}") from None
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise bad_request(f"Unknown input type: {typ}")
        return self.scalar(typ, value)

    # ---- shared scalars -------------------------------------------------------------------

    def scalar(self, typ: str, value: Any) -> Any:
        if typ == "id":
            decoded = decode_short(str(value))
            if decoded is None:
                raise ApiError(404, NOT_FOUND_BODY)
            return decoded
        if typ == "company_id":
            number = decode_company(str(value))
            if number is None:
                raise ApiError(404, NOT_FOUND_BODY)
            return number
        enums = self.catalog["enums"]
        if typ in enums:
            if value not in enums[typ]:
                if self.profile == "2026-03" and value not in self.catalog["all_enum_values"]:
                    # 2026-03 turned the string into an atom first and crashed on unknown atoms
                    raise ApiError(500, {"errors": {"detail": "Internal Server Error"}}, "application/json")
                raise bad_request(f"Invalid value for enum {typ}: {value}. Allowed values: {', '.join(enums[typ])}")
            return value
        int_enums = self.catalog["int_enums"]
        if typ in int_enums:
            if str(value) not in int_enums[typ]:
                raise bad_request(f"Invalid value for enum {typ}: {value}. Allowed values: {', '.join(int_enums[typ])}")
            return int(value)
        if typ == "integer":
            return int(value)
        return value if isinstance(value, str) else str(value)

    @staticmethod
    def missing_required(spec: dict[str, Any], inputs: dict[str, Any]) -> list[str]:
        return [name for name, _typ, optional, _nullable in spec["inputs"] if not optional and name not in inputs]
