"""Every URL of the project, enumerated from Django's resolver, so a new page is covered by the
security tests without anyone remembering to add it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern

_PARAM = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "connections/<int:credential_id>/test/"
    name: str  # "namespace:name", or the template when unnamed
    params: tuple[str, ...]

    def url(self, values: dict[str, object]) -> str:
        path = _PARAM.sub(lambda m: str(values[m.group("name")]), self.template)
        path = _REGEX_GROUP.sub(lambda m: str(values[m.group("name")]), path)
        return "/" + path.replace("^", "").replace("$", "")

    @property
    def is_admin_site(self) -> bool:
        return self.template.startswith("admin/")


def _walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> Iterator[Route]:
    for pattern in patterns:
        text = pattern.pattern.regex.pattern if isinstance(pattern.pattern, RegexPattern) else str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + text, inner)
            continue
        template = prefix + text
        params = tuple(m.group("name") for m in _PARAM.finditer(template)) + tuple(m.group("name") for m in _REGEX_GROUP.finditer(template))
        yield Route(template=template, name=f"{namespace}{pattern.name}" if pattern.name else template, params=params)


def all_routes() -> list[Route]:
    return list(_walk(get_resolver().url_patterns, "", ""))


def project_routes() -> list[Route]:
    """Everything except Django's own admin site (tested separately: staff only)."""
    return [r for r in all_routes() if not r.is_admin_site]
