"""``{% load writeback %}``: what a vendor lets the dashboard change."""

from __future__ import annotations

from typing import Any

from django import template

from dashboard.writeback.forms import offers as _offers

register = template.Library()


@register.filter
def offers(item: Any, operation: str) -> bool:
    """``{% if w|offers:"update_action" %}``: the item's vendor declares that write on its kind."""
    kind = getattr(item, "kind", "") or getattr(getattr(item, "_meta", None), "model_name", "")
    kind = {"keyresult": "key_result"}.get(kind, kind)
    return _offers(str(getattr(item, "vendor", "")), str(kind), operation)
