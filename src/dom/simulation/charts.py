"""Grouped bar charts as standalone SVG: no plotting library is installed, and bars need none."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape

#: Colour-blind-safe (Okabe–Ito), one per policy in order.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
WIDTH, HEIGHT = 760, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 50, 90


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Mapping[str, Sequence[float]],
    *,
    y_label: str = "",
    label: Callable[[float], str] = lambda v: f"{v:,.2f}",
) -> str:
    """One group of bars per category, one bar per series (a policy), with a legend."""
    top = max((v for values in series.values() for v in values), default=0.0)
    scale_top = _nice(top)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group_w = plot_w / max(1, len(categories))
    bar_w = group_w * 0.8 / max(1, len(series))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="24" text-anchor="middle" font-size="16">{escape(title)}</text>',
    ]
    for step in range(5):
        value = scale_top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        parts.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label(value))}</text>'
        )
    if y_label:
        parts.append(
            f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" '
            f'transform="rotate(-90 16 {TOP + plot_h / 2})">{escape(y_label)}</text>'
        )
    for c, category in enumerate(categories):
        x0 = LEFT + group_w * c + group_w * 0.1
        for s, (name, values) in enumerate(series.items()):
            value = values[c] if c < len(values) else 0.0
            h = plot_h * value / scale_top if scale_top else 0.0
            x, y = x0 + bar_w * s, TOP + plot_h - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w * 0.92:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[s % len(COLOURS)]}"><title>{escape(name)}: '
                f"{escape(label(value))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{TOP + plot_h + 18}" '
            f'text-anchor="middle">{escape(category)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#333"/>'
    )
    for s, name in enumerate(series):
        x = LEFT + (s % 4) * (plot_w / 4)
        y = HEIGHT - 40 + (s // 4) * 18
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10}" width="12" height="12" '
            f'fill="{COLOURS[s % len(COLOURS)]}"/>'
        )
        parts.append(f'<text x="{x + 18:.1f}" y="{y}">{escape(name)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _nice(value: float) -> float:
    """A round number at or above `value` for the top of the axis."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10 if value >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude
