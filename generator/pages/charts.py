"""Charts as inline SVG, drawn at build time: no JavaScript, no fonts to load, works from file://.

Pure and deterministic: the same figures give the same bytes. Every chart is accessible: a
``<title>`` and ``<desc>`` referenced by ``aria-labelledby``, and every bar carries its number as
text (pages put the same numbers in a table beside the chart). All text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

SVG_NS = "http://www.w3.org/2000/svg"
ROW_HEIGHT = 28
BAR_HEIGHT = 18
LABEL_WIDTH = 150
BAR_WIDTH = 300
VALUE_WIDTH = 70
PAD = 6
# colour-blind safe, readable on white, and distinct in greyscale print
PALETTE = ("#b3261e", "#1f5fa8", "#2e7d46", "#8a4b00")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    text: str = ""  # shown after the bar; the value when empty


def _num(value: float) -> str:
    """Coordinates with at most one decimal, never '-0' or exponent notation."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _clip(label: str, limit: int = 10) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def bar_chart(
    chart_id: str,
    title: str,
    desc: str,
    bars: Sequence[Bar],
    maximum: int | None = None,
    colour: int = 0,
) -> str:
    """A horizontal bar chart: one row per bar, label left, bar, number right.

    ``maximum`` fixes the scale (100 for percentages); by default the largest value fills the
    width. ``chart_id`` must be unique on the page (it names the title and desc elements).
    """
    top = max([maximum or 0, *(b.value for b in bars)]) or 1
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    height = PAD * 2 + ROW_HEIGHT * max(1, len(bars))
    fill = PALETTE[colour % len(PALETTE)]
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg xmlns="{SVG_NS}" class="chart" role="img" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}"'
        f' aria-labelledby="{escape(title_id)} {escape(desc_id)}">',
        f"<title id={quoteattr(title_id)}>{escape(title)}</title>",
        f"<desc id={quoteattr(desc_id)}>{escape(desc)}</desc>",
    ]
    for index, bar in enumerate(bars):
        y = PAD + index * ROW_HEIGHT
        mid = y + ROW_HEIGHT / 2
        length = BAR_WIDTH * max(0, bar.value) / top
        shown = bar.text or str(bar.value)
        out.append(
            f'<g class="bar" data-label={quoteattr(bar.label)} data-value="{bar.value}">'
            f"<title>{escape(bar.label)}: {escape(shown)}</title>"
            f'<text x="{LABEL_WIDTH - PAD}" y="{_num(mid)}" text-anchor="end"'
            f' dominant-baseline="middle" font-size="13">{escape(_clip(bar.label))}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{_num(mid - BAR_HEIGHT / 2)}" width="{_num(length)}"'
            f' height="{BAR_HEIGHT}" fill="{fill}"/>'
            f'<text class="value" x="{_num(LABEL_WIDTH + length + PAD)}" y="{_num(mid)}"'
            f' dominant-baseline="middle" font-size="13">{escape(shown)}</text>'
            "</g>"
        )
    if not bars:
        out.append(
            f'<text x="{LABEL_WIDTH}" y="{_num(PAD + ROW_HEIGHT / 2)}"'
            ' dominant-baseline="middle" font-size="13">–</text>'
        )
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
