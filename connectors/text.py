"""One sanitising policy for vendor text, shared by every connector.

Vendor text can hold HTML (OGSM descriptions, North names) or rich text (Operately). It is
never trusted: ``sanitise_html`` keeps basic formatting and plain links only; ``plain_text``
keeps no markup at all.
"""

from __future__ import annotations

import html
from typing import Any

import nh3

SAFE_TAGS = {"p", "br", "strong", "em", "b", "i", "ul", "ol", "li", "a"}
SAFE_ATTRIBUTES = {"a": {"href"}}
SAFE_URL_SCHEMES = {"http", "https", "mailto"}


def sanitise_html(value: Any, *, link_rel: str = "noopener") -> str:
    """Vendor HTML -> HTML that is safe to render: no script/style (content dropped too), no
    event-handler attributes, no javascript: or data: links; links get ``rel``."""
    if not isinstance(value, str) or not value.strip():
        return ""
    return nh3.clean(
        value,
        tags=SAFE_TAGS,
        attributes=SAFE_ATTRIBUTES,
        url_schemes=SAFE_URL_SCHEMES,
        clean_content_tags={"script", "style"},
        link_rel=link_rel,
    ).strip()


def plain_text(value: Any) -> str:
    """Vendor text as plain text: tags (and script/style content) dropped, entities decoded."""
    if not isinstance(value, str) or not value:
        return ""
    return html.unescape(nh3.clean(value, tags=set())).strip()
