"""Compact a vendor API catalogue to what the sandbox and its tests need.

The full catalogues (``api-catalog-2026-03.json``, ``api-catalog-2026-08.json``, Apache-2.0, from
Operately's repository) live in the vendor documents; the sandbox ships two extracts per profile:

- ``<profile>.json``: every endpoint's method and inputs, the enums and the input object types
  they reference (the sandbox validates inputs with it);
- ``<profile>.outputs.json``: every endpoint's outputs and the object types they reference (the
  contract test compares what the sandbox serves with it)::

    python -m connectors.operately.sandbox.catalogs.compact SRC.json OUT.json [OUTPUTS.json]

Each field is ``[name, type, optional, nullable]``; a type is a name or ``[item type]`` for a list.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _type(t: dict[str, Any]) -> Any:
    return t["name"] if t["kind"] == "named" else [_type(t["item"])]


def _fields(fields: list[dict[str, Any]]) -> list[list[Any]]:
    return [[f["name"], _type(f["type"]), bool(f["optional"]), bool(f["nullable"])] for f in fields]


def _objects_reached(types: dict[str, Any], roots: list[list[Any]]) -> dict[str, list[list[Any]]]:
    wanted: set[str] = set()

    def visit(t: Any) -> None:
        if isinstance(t, list):
            visit(t[0])
        elif t in types["objects"] and t not in wanted:
            wanted.add(t)
            for field in _fields(types["objects"][t]["fields"]):
                visit(field[1])

    for field in roots:
        visit(field[1])
    return {name: _fields(types["objects"][name]["fields"]) for name in sorted(wanted)}


def compact(catalog: dict[str, Any]) -> dict[str, Any]:
    types = catalog["types"]
    endpoints = {e["full_name"]: {"method": e["method"], "inputs": _fields(e["inputs"])} for e in catalog["endpoints"]}
    return {
        "endpoints": endpoints,
        "objects": _objects_reached(types, [f for e in endpoints.values() for f in e["inputs"]]),
        "enums": types["enums"],
        "int_enums": types.get("int_enums", {}),
    }


def compact_outputs(catalog: dict[str, Any]) -> dict[str, Any]:
    types = catalog["types"]
    endpoints = {e["full_name"]: _fields(e["outputs"]) for e in catalog["endpoints"]}
    return {"endpoints": endpoints, "objects": _objects_reached(types, [f for fields in endpoints.values() for f in fields])}


def _write(data: dict[str, Any], path: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"), sort_keys=True)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as fh:
        source = json.load(fh)
    _write(compact(source), sys.argv[2])
    if len(sys.argv) > 3:
        _write(compact_outputs(source), sys.argv[3])
