"""A content body converted for display: what page views read of an item's Markdown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rendered:
    html: str
    text_summary: str
    # every relative reference of the body and what it resolved to (None: left as written);
    # a cached result is valid while each reference still resolves the same way
    links: tuple[tuple[str, str | None], ...] = ()
    # the whole body as plain text (for the search index); read from the HTML
    text: str = ""
