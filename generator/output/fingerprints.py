"""Page fingerprints: a hash of everything a page is made from, so an incremental build
re-renders exactly the pages whose inputs changed.

A page's inputs are its template and every template that one uses, the site configuration
and organisation tree, the theme's catalog, the free pages (every page's footer links them),
the values of its context, and every content item it shows or reads through the site view
(``PageJob.items``). An item stands for its source digest, its URL, its tags' URLs, its dates
and its photos and attachments, and the resolution of its body's links.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from generator.site.bodies import Rendered
from generator.site.model import Item, Profile, Report, Site, Unit
from generator.site.urls import UrlPlan

Hasher = Any


def _h(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class Fingerprints:
    """Fingerprints of items and pages of one build (memoised per item)."""

    def __init__(
        self,
        site: Site,
        plan: UrlPlan,
        global_digest: str,
        links: Mapping[str, Rendered | None],
        templates: Callable[[str], str],
    ) -> None:
        self.site = site
        self.plan = plan
        self.global_digest = global_digest
        self.links = links
        self.templates = templates
        self._items: dict[str, str] = {}
        self._by_key = {i.key: i for i in (*site.items(), *site.pages)}

    def item(self, key: str) -> str:
        found = self._items.get(key)
        if found is not None:
            return found
        item = self._by_key[key]
        parts = [item.digest, self.plan.items[key], repr(item.date), repr(item.updated)]
        parts.extend(self.plan.tags.get(t, "") for t in item.tags)
        if isinstance(item, Profile) and item.photo is not None:
            parts.append(f"{item.photo.source}:{item.photo.size}")
        if isinstance(item, Report):
            parts.extend(f"{a.source}:{a.size}" for a in item.attachments)
        rendered = self.links.get(key)
        if rendered is not None:
            parts.extend(f"{ref}>{to}" for ref, to in rendered.links)
        found = _h(*parts)
        self._items[key] = found
        return found

    def page(
        self, template: str, context: Mapping[str, Any], items: Iterable[str]
    ) -> tuple[str, set[str]]:
        """The page's fingerprint and the keys of every item it refers to."""
        seen: set[str] = set(items)
        digest = hashlib.sha256()
        digest.update(self.global_digest.encode())
        digest.update(self.templates(template).encode())
        _walk(context, digest, seen)
        for key in sorted(seen):
            digest.update(key.encode())
            digest.update(self.item(key).encode())
        return digest.hexdigest(), seen


def _walk(value: Any, digest: Hasher, seen: set[str]) -> None:
    """Feed a canonical form of a context value into ``digest``; collect item keys."""
    stack = [value]
    while stack:
        current = stack.pop()
        if isinstance(current, Item):
            digest.update(b"I" + current.key.encode())
            seen.add(current.key)
        elif isinstance(current, Unit):
            digest.update(b"U" + current.id.encode())
        elif isinstance(current, str | int | float | bool | dt.date | enum.Enum) or current is None:
            digest.update(b"S" + repr(current).encode())
        elif isinstance(current, Mapping):
            digest.update(b"M%d" % len(current))
            for k in sorted(current, key=repr):
                digest.update(b"K" + repr(k).encode())
                stack.append(current[k])
        elif isinstance(current, list | tuple | set | frozenset):
            items = sorted(current, key=repr) if isinstance(current, set | frozenset) else current
            digest.update(b"L%d" % len(items))
            stack.extend(reversed(list(items)))
        elif dataclasses.is_dataclass(current):
            digest.update(b"D" + type(current).__name__.encode())
            stack.extend(getattr(current, f.name) for f in reversed(dataclasses.fields(current)))
        else:
            digest.update(b"R" + repr(current).encode())


def global_digest(site: Site, catalog: Mapping[str, str], version: str) -> str:
    """What every page depends on: configuration, units, catalog, the free pages' links, the
    editions (the banner and the footer's list)."""
    pages = [(p.key, p.title, p.order, p.digest) for p in site.pages]
    units = [(u.id, u.name, u.parent, u.kind, u.order, u.children) for u in site.units]
    editions = repr((site.edition, site.editions))  # issue 4: banner and footer of every page
    return _h(
        version, repr(site.config), repr(units), repr(sorted(catalog.items())), repr(pages),
        editions,
    )
