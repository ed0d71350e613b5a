"""Operately rich text (TipTap/ProseMirror JSON, sent as a JSON *string*) to safe output.

``to_text`` gives plain text (templates escape it); ``to_html`` gives HTML built from escaped
text and then sanitised with nh3 (basic formatting only, links http/https/mailto with
``rel="noopener"``). Mentions become the person's name. Anything unparseable is treated as
plain text, never as markup.
"""

from __future__ import annotations

import html
import json
from typing import Any

from connectors.text import sanitise_html

_BLOCKS = {"paragraph", "heading", "blockquote", "codeBlock", "listItem"}


def parse(value: Any) -> dict[str, Any] | None:
    """The document as a dict, from a JSON string or an already-decoded dict."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None


def document(text: str) -> str:
    """A message typed by a user as the JSON string Operately expects (one paragraph per line)."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} if line else {"type": "paragraph"} for line in text.split("\n")
    ]
    return json.dumps({"type": "doc", "content": paragraphs}, ensure_ascii=False)


def _mention_name(node: dict[str, Any]) -> str:
    attrs = node.get("attrs") or {}
    label = attrs.get("label") or attrs.get("name") or attrs.get("id") or ""
    return str(label)


def to_text(value: Any) -> str:
    if value is None:
        return ""
    doc = parse(value)
    if doc is None:
        return str(value).strip()
    lines: list[str] = []

    def walk(node: Any, line: list[str]) -> None:
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind == "text":
            line.append(str(node.get("text", "")))
        elif kind == "mention":
            line.append(_mention_name(node))
        elif kind == "hardBreak":
            line.append("\n")
        elif kind in _BLOCKS:
            inner: list[str] = []
            for child in node.get("content") or []:
                if isinstance(child, dict) and child.get("type") in _BLOCKS | {"bulletList", "orderedList"}:
                    walk(child, line)
                else:
                    walk(child, inner)
            text = "".join(inner)
            if text or kind != "listItem":
                lines.append(("- " if kind == "listItem" else "") + text)
        else:
            for child in node.get("content") or []:
                walk(child, line)

    walk(doc, [])
    return "\n".join(line for line in lines).strip()


def _marked(text: str, marks: list[Any]) -> str:
    out = html.escape(text)
    for mark in marks or []:
        if not isinstance(mark, dict):
            continue
        kind = mark.get("type")
        if kind == "bold":
            out = f"<strong>{out}</strong>"
        elif kind == "italic":
            out = f"<em>{out}</em>"
        elif kind == "link":
            href = str((mark.get("attrs") or {}).get("href") or "")
            out = f'<a href="{html.escape(href, quote=True)}">{out}</a>'
    return out


def _render(node: Any) -> str:
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    children = "".join(_render(c) for c in node.get("content") or [])
    if kind == "text":
        return _marked(str(node.get("text", "")), node.get("marks") or [])
    if kind == "mention":
        return html.escape(_mention_name(node))
    if kind == "hardBreak":
        return "<br>"
    if kind in ("paragraph", "heading", "blockquote", "codeBlock"):
        return f"<p>{children}</p>"
    if kind == "bulletList":
        return f"<ul>{children}</ul>"
    if kind == "orderedList":
        return f"<ol>{children}</ol>"
    if kind == "listItem":
        return f"<li>{children}</li>"
    return children


def sanitise(fragment: str) -> str:
    return sanitise_html(fragment)


def to_html(value: Any) -> str:
    if value is None:
        return ""
    doc = parse(value)
    if doc is None:
        return sanitise(f"<p>{html.escape(str(value))}</p>") if str(value).strip() else ""
    return sanitise(_render(doc))
