"""A content body converted for display: what page views read of an item's Markdown."""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


def full_body(bodies: Mapping[str, Rendered], key: str, text: bool = True) -> Rendered | None:
    """The body of item ``key`` with its HTML, and its text unless not ``text`` (then it may
    be left out). A mapping of bodies may hold some with their summary and links alone (a
    large build keeps the rest in its cache): one that can give the rest has a ``full``
    method, which is asked."""
    fetch: Callable[[str, bool], Rendered | None] | None = getattr(bodies, "full", None)
    return fetch(key, text) if fetch is not None else bodies.get(key)
