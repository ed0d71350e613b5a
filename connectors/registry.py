"""Connector registry: ``@register`` on a class, ``get(vendor)`` and ``all()``."""

from __future__ import annotations

import importlib
from typing import TypeVar

from connectors.base import VendorConnector

_REGISTRY: dict[str, type[VendorConnector]] = {}
# The vendors the product ships: each is the package connectors.<vendor> (with its sandbox).
VENDOR_CHOICES = (("north", "North"), ("operately", "Operately"), ("ogsm", "OGSM"))
_BUILTIN = tuple(vendor for vendor, _label in VENDOR_CHOICES)
C = TypeVar("C", bound=type[VendorConnector])


def register(cls: C) -> C:
    _REGISTRY[cls.vendor] = cls
    return cls


def _load_builtins() -> None:
    for vendor in _BUILTIN:
        if vendor not in _REGISTRY:
            try:
                importlib.import_module(f"connectors.{vendor}")
            except ModuleNotFoundError as exc:  # a vendor package not written yet
                if exc.name not in (f"connectors.{vendor}",):
                    raise


def get(vendor: str) -> type[VendorConnector]:
    _load_builtins()
    try:
        return _REGISTRY[vendor]
    except KeyError:
        raise KeyError(f"No connector registered for vendor {vendor!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def all() -> dict[str, type[VendorConnector]]:  # noqa: A001 - the conventions name it all()
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))
