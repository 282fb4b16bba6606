"""Charts as inline SVG, drawn at build time: no JavaScript, no fonts to load, works from file://.

Pure and deterministic: the same figures give the same bytes. Every chart is accessible: a
``<title>`` and ``<desc>`` referenced by ``aria-labelledby``, and every bar carries its number as
text (pages put the same numbers in a table next to the chart). All text is escaped.

The SVG has no ``viewBox``: it is as wide as its container and its text is drawn at the CSS size,
so labels stay legible on a phone instead of shrinking with the drawing. Each row puts the label
on its own line above the bar; bar lengths are percentages of the width. Colours come from the
theme: a bar carries the class ``series-N`` and the stylesheet fills it with ``--chart-N``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
ROW_HEIGHT = 46  # one label line and one bar
LABEL_Y = 17  # label baseline, from the top of the row
BAR_Y = 24  # top of the bar, from the top of the row
BAR_HEIGHT = 16
BAR_SHARE = 80  # percent of the width the longest bar fills; its number follows
FONT_SIZE = 14  # pixels; the stylesheet may set another size
PAD = 4
SERIES = 4  # the theme defines --chart-1 to --chart-4
LABEL_LIMIT = 24  # characters of a label before it is cut with "…"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    text: str = ""  # shown after the bar; the value when empty


def _num(value: float) -> str:
    """Numbers with at most two decimals, never '-0' or exponent notation."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _clip(label: str, limit: int = LABEL_LIMIT) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _bar(bar: Bar, y: int, top: int, series: int) -> str:
    """One row: the label on its line, then the bar and its number."""
    share = BAR_SHARE * max(0, bar.value) / top
    shown = bar.text or str(bar.value)
    mid = y + BAR_Y + BAR_HEIGHT / 2
    return (
        f'<g class="bar" data-label={quoteattr(bar.label)} data-value="{bar.value}">'
        f"<title>{escape(bar.label)}: {escape(shown)}</title>"
        f'<text class="label" x="0" y="{y + LABEL_Y}" font-size="{FONT_SIZE}">'
        f"{escape(_clip(bar.label))}</text>"
        f'<rect class="series-{series}" x="0" y="{y + BAR_Y}" width="{_num(share)}%"'
        f' height="{BAR_HEIGHT}" fill="currentColor"/>'
        f'<text class="value" x="{_num(share)}%" dx="{PAD + 2}" y="{_num(mid)}"'
        f' dominant-baseline="central" font-size="{FONT_SIZE}">{escape(shown)}</text>'
        "</g>"
    )


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    maximum: int | None = None,
    colour: int = 0,
) -> str:
    """A horizontal bar chart: one row per bar, its label above it and its number after it.

    ``maximum`` fixes the scale (100 for percentages); by default the largest value fills
    ``BAR_SHARE`` percent of the width. ``colour`` picks the theme's series colour.
    ``chart_id`` must be unique on the page (it names the title and desc elements).
    """
    top = max([maximum or 0, *(b.value for b in bars)]) or 1
    height = PAD * 2 + ROW_HEIGHT * max(1, len(bars))
    series = colour % SERIES
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg xmlns="{SVG_NS}" class="chart" role="img" width="100%" height="{height}"'
        f' style="height: {height}px" aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f"<title id={quoteattr(title_id)}>{escape(title)}</title>",
        f"<desc id={quoteattr(desc_id)}>{escape(desc)}</desc>",
    ]
    out.extend(_bar(bar, PAD + n * ROW_HEIGHT, top, series) for n, bar in enumerate(bars))
    if not bars:
        out.append(f'<text x="0" y="{PAD + LABEL_Y}" font-size="{FONT_SIZE}">–</text>')
    out.append("</svg>")
    return "".join(out)


def svg_bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    rows: Iterable[tuple[str, int]],
    maximum: int | None = None,
    colour: int = 0,
    suffix: str = "",
) -> Markup:
    """For templates: an inline SVG bar chart of (label, value) rows."""
    bars = [Bar(label, value, f"{value}{suffix}" if suffix else "") for label, value in rows]
    return Markup(bar_chart(chart_id, title, desc, bars, maximum, colour))
