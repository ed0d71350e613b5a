"""Server-side SVG for small charts (sparklines), so pages need no chart library.

Only numbers we compute go into the markup, so the output is safe to mark as such.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


def sparkline_points(values: Sequence[float | None], *, width: int, height: int, pad: float = 2.0) -> list[tuple[float, float]]:
    """Map progress values (0..100, fixed scale so trends compare across rows) to SVG points.

    Unknown values (None) are skipped: a gap in knowledge is not a drop to zero.
    """
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if not known:
        return []
    steps = max(len(values) - 1, 1)
    inner_w, inner_h = width - 2 * pad, height - 2 * pad
    points = []
    for index, value in known:
        value = max(0.0, min(100.0, value))
        x = pad + inner_w * index / steps if len(values) > 1 else width / 2
        y = pad + inner_h * (1 - value / 100.0)
        points.append((round(x, 1), round(y, 1)))
    return points


def sparkline(values: Sequence[float | None], *, width: int = 80, height: int = 22) -> SafeString:
    """A thin line of progress over time with a dot on the latest value; empty when < 2 points."""
    points = sparkline_points(values, width=width, height=height)
    if len(points) < 2:
        return mark_safe("")
    known = [v for v in values if v is not None]
    label = f"Progress trend: {known[0]:.0f}% to {known[-1]:.0f}% over {len(known)} snapshots"
    polyline = " ".join(f"{x},{y}" for x, y in points)
    last_x, last_y = points[-1]
    return format_html(
        '<svg class="sparkline" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        "<title>{label}</title>"
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round" points="{points}"/>'
        '<circle cx="{cx}" cy="{cy}" r="2" fill="currentColor"/></svg>',
        w=width,
        h=height,
        label=label,
        points=polyline,
        cx=last_x,
        cy=last_y,
    )
