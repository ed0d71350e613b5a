"""``__typename`` on the objects of the 2026-08 profile.

That catalogue declares a required ``__typename`` string on every object type (the type tag of
Operately's generated TypeScript client). The serializers build the objects without it; this
adds it to every object of an endpoint's outputs, walking them by the catalogue's output types.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from .inputs import CATALOG_DIR

TYPENAME = "__typename"


@cache
def output_catalog(profile: str) -> dict[str, Any]:
    """The compacted outputs of one profile's catalogue (``catalogs/<profile>.outputs.json``)."""
    with (CATALOG_DIR / f"{profile}.outputs.json").open(encoding="utf-8") as fh:
        catalog: dict[str, Any] = json.load(fh)
    return catalog


def _tagged(value: Any, typ: Any, objects: dict[str, list[list[Any]]]) -> Any:
    """A copy of ``value`` with the tags (the serializers share dicts with the sandbox state)."""
    if isinstance(typ, list):
        return [_tagged(item, typ[0], objects) for item in value] if isinstance(value, list) else value
    fields = objects.get(typ)
    if fields is None or not isinstance(value, dict):
        return value
    types = {f[0]: f[1] for f in fields}
    out = {key: _tagged(child, types[key], objects) if key in types and child is not None else child for key, child in value.items()}
    if TYPENAME in types:
        out[TYPENAME] = typ
    return out


def add_typenames(profile: str, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
    catalog = output_catalog(profile)
    outputs = {f[0]: f[1] for f in catalog["endpoints"].get(endpoint, [])}
    return {key: _tagged(value, outputs[key], catalog["objects"]) if key in outputs else value for key, value in body.items()}
