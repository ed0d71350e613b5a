"""Compact a vendor API catalogue to what the sandbox validates inputs with.

The full catalogues (``api-catalog-2026-03.json``, ``api-catalog-2026-08.json``, Apache-2.0, from
Operately's repository) live in the vendor documents; the sandbox ships only every endpoint's
method and inputs, the enums and the input object types they reference::

    python -m connectors.operately.sandbox.catalogs.compact SRC.json OUT.json
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _type(t: dict[str, Any]) -> Any:
    return t["name"] if t["kind"] == "named" else [_type(t["item"])]


def _fields(fields: list[dict[str, Any]]) -> list[list[Any]]:
    return [[f["name"], _type(f["type"]), bool(f["optional"]), bool(f["nullable"])] for f in fields]


def compact(catalog: dict[str, Any]) -> dict[str, Any]:
    types = catalog["types"]
    endpoints = {e["full_name"]: {"method": e["method"], "inputs": _fields(e["inputs"])} for e in catalog["endpoints"]}
    wanted: set[str] = set()

    def visit(t: Any) -> None:
        if isinstance(t, list):
            visit(t[0])
        elif t in types["objects"] and t not in wanted:
            wanted.add(t)
            for field in _fields(types["objects"][t]["fields"]):
                visit(field[1])

    for endpoint in endpoints.values():
        for field in endpoint["inputs"]:
            visit(field[1])
    return {
        "endpoints": endpoints,
        "objects": {name: _fields(types["objects"][name]["fields"]) for name in sorted(wanted)},
        "enums": types["enums"],
        "int_enums": types.get("int_enums", {}),
    }


if __name__ == "__main__":
    src, out = sys.argv[1], sys.argv[2]
    with open(src, encoding="utf-8") as fh:
        data = compact(json.load(fh))
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(data, fh, separators=(",", ":"), sort_keys=True)
