"""URL planning: a slug and an output path for every page and copied file, decided before
anything is rendered or written. Collisions are resolved (derived slugs) or reported (anything
else) here, and no planned path can leave the output folder.

Paths are relative to the output root, POSIX, and pages always end in ``index.html`` so that
links work from file:// as well as from a web server under any sub-path.
"""

from __future__ import annotations

import bisect
import functools
import operator
import posixpath
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.base import hanzi
from generator.base.errors import Diagnostic
from generator.content.paths import is_safe
from generator.kinds.kind import Kind, Registry
from generator.kinds.registry import BUILT_IN
from generator.site.model import Item, Site

INDEX = "index.html"
THEME_ASSETS = "assets"
MAX_SEGMENT_BYTES = 200  # longest folder or file name of a page (file systems allow 255)


def join(*parts: object) -> str:
    return "/".join(str(p) for p in parts if str(p))


def home() -> str:
    return INDEX


def section(kind: str, page: int = 1, kinds: Registry = BUILT_IN) -> str:
    """The list of a kind's items (its folder's name), page by page."""
    base = kinds[kind].folder
    return join(base, INDEX) if page <= 1 else join(base, "page", page, INDEX)


def paged(first: str, page: int) -> str:
    """Page ``page`` of a list whose first page is ``first`` (``…/index.html``): the first
    page itself, else ``…/page/<n>/index.html``."""
    if page <= 1:
        return first
    return join(first[: -len(INDEX)].rstrip("/"), "page", page, INDEX)


def names(kind: str, page: int = 1, kinds: Registry = BUILT_IN) -> str:
    """The list of a kind's people by surname, page by page."""
    return paged(join(kinds[kind].folder, "names", INDEX), page)


def unit(unit_id: str, year: int | None = None) -> str:
    return join("units", unit_id, year or "", INDEX)


def honours(year_value: int, page: int = 1) -> str:
    """The whole honour roll of a year, page by page."""
    return paged(join("years", year_value, "honours", INDEX), page)


def units_index() -> str:
    return join("units", INDEX)


def year(value: int) -> str:
    return join("years", value, INDEX)


def years_index() -> str:
    return join("years", INDEX)


def tags_index() -> str:
    return join("tags", INDEX)


EDITIONS = "editions"  # the frozen yearly editions, copied as they are


def editions_index() -> str:
    return join(EDITIONS, INDEX)


def edition(year_value: int) -> str:
    return join(EDITIONS, year_value, INDEX)


@functools.lru_cache(maxsize=262144)
def relative(target: str, from_page: str) -> str:
    """The link from the page at ``from_page`` to ``target`` (both output-root relative)."""
    start = from_page.split("/")[:-1]
    parts = target.split("/")
    common = 0
    while common < len(start) and common < len(parts) - 1 and start[common] == parts[common]:
        common += 1
    return "../" * (len(start) - common) + "/".join(parts[common:])


@dataclass(frozen=True, slots=True)
class UrlPlan:
    items: Mapping[str, str]  # item key -> page path
    slugs: Mapping[str, str]  # item key -> final slug
    tags: Mapping[str, str]  # tag -> page path
    assets: Mapping[str, str] = field(default_factory=dict)  # source path -> output path


def detail(kind: Kind[Any], year_value: int, slug: str) -> str:
    """An item's page: under its kind's section and year (free pages: no year)."""
    if not kind.yearly:
        return join(kind.folder, slug, INDEX)
    return join(kind.folder, year_value, slug, INDEX)


def _dedupe(base: str, taken: set[str], tried: dict[str, int]) -> str:
    """``base``, else ``base-2``, ``base-3`` ...: the first not taken. ``tried`` remembers
    the last suffix tried per base (``taken`` only grows), so 10,000 tags that all read
    ``tag`` cost linear time, not quadratic."""
    n = tried.get(base, 1)
    candidate = base if n == 1 else f"{base}-{n}"
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    tried[base] = n
    taken.add(candidate)
    return candidate


# what ``plan`` found for one group of items (a kind's items of one year): the kind, its
# members, their slugs and paths by key, and the problems of those paths
_Group = tuple[Kind[Any], list[Item], dict[str, str], dict[str, str], list[Diagnostic]]


def plan(
    site: Site, static_files: Iterable[str], memo: dict[str, Any] | None = None
) -> tuple[UrlPlan, list[Diagnostic]]:
    """The path of every item's page, tag page and copied file, and the problems of those
    paths. With ``memo`` (a process that plans again), a group of items (a kind's items of
    one year) whose items are the very objects of the last plan keeps its slugs and paths."""
    problems: list[Diagnostic] = []
    slugs: dict[str, str] = {}
    paths: dict[str, str] = {}
    groups: dict[tuple[str, int], list[Item]] = defaultdict(list)
    items: list[Item] = list(site.all_items())
    for item in items:
        groups[(item.kind, item.year)].append(item)
    last: dict[tuple[str, int], _Group] = memo.get("groups", {}) if memo is not None else {}
    now: dict[tuple[str, int], _Group] = {}
    for (kind, year_value), members in sorted(groups.items()):
        found = last.get((kind, year_value))
        if found is None or found[0] is not site.kinds[kind] or not _same(found[1], members):
            found = _group(site.kinds[kind], year_value, members)
        now[(kind, year_value)] = found
        slugs.update(found[2])
        paths.update(found[3])
        problems.extend(found[4])
    if memo is not None:
        memo["groups"] = now
    tag_paths: dict[str, str] = {}
    taken_tags: set[str] = set()
    tried_tags: dict[str, int] = {}
    for tag in site.tags:
        base = hanzi.slugify_syllables(hanzi.text_pinyin(tag)) or "tag"
        slug = _dedupe(base, taken_tags, tried_tags)
        tag_paths[tag] = join("tags", slug, INDEX)
    assets: dict[str, str] = {}
    for static in static_files:
        assets[static] = static  # static/ is copied to static/ as it is
    for item in items:
        for asset in item.asset_sources():
            assets.setdefault(asset, asset)
    problems.extend(_unsafe(assets.values()))
    problems.extend(_tags_too_long(tag_paths, site))
    return UrlPlan(paths, slugs, tag_paths, assets), problems


def _same(last: list[Item], now: list[Item]) -> bool:
    """Whether ``now`` holds the very objects of ``last``, in the same order."""
    return len(last) == len(now) and all(map(operator.is_, last, now))


def _group(kind: Kind[Any], year_value: int, members: list[Item]) -> _Group:
    """The slugs and paths of the ``members`` of one group (``kind``, ``year_value``):
    explicit slugs first (their duplicates are errors reported by the model), then the
    derived ones in source-path order, suffixed -2, -3 ... on collision; with the problems
    of those paths."""
    slugs: dict[str, str] = {}
    paths: dict[str, str] = {}
    taken: set[str] = {m.slug for m in members if m.slug}
    tried: dict[str, int] = {}
    for member in sorted(members, key=lambda m: m.key):
        # a title or name without any pinyin falls back to the kind's name
        slug = member.slug or _dedupe(member.default_slug() or kind.name, taken, tried)
        slugs[member.key] = slug
        paths[member.key] = detail(kind, year_value, slug)
    problems = [*_unsafe(paths.values()), *_too_long(paths)]
    return kind, members, slugs, paths, problems


def _unsafe(paths: Iterable[str]) -> list[Diagnostic]:
    """The paths that could leave the output folder."""
    return [
        Diagnostic.error(path, 0, "unsafe-path", target=path) for path in paths if not is_safe(path)
    ]


def _too_long(paths: Mapping[str, str]) -> list[Diagnostic]:
    """Items' pages whose path has a folder name longer than file systems allow (255 bytes)."""
    return [
        Diagnostic.error(key, 0, "path-too-long", target=path, limit=MAX_SEGMENT_BYTES)
        for key, path in paths.items()
        if _longest_segment(path) > MAX_SEGMENT_BYTES
    ]


def _tags_too_long(tag_paths: Mapping[str, str], site: Site) -> list[Diagnostic]:
    """Tags' pages whose path has a folder name longer than file systems allow, each told
    at the first item of the tag."""
    found: list[Diagnostic] = []
    for tag, path in tag_paths.items():
        if _longest_segment(path) > MAX_SEGMENT_BYTES:
            first = site.by_tag[tag][0].key if site.by_tag.get(tag) else "site.yaml"
            found.append(
                Diagnostic.error(first, 0, "path-too-long", target=path, limit=MAX_SEGMENT_BYTES)
            )
    return found


def _longest_segment(path: str) -> int:
    return max((len(part.encode("utf-8")) for part in path.split("/")), default=0)


def clashes(pages: Iterable[str], assets: Mapping[str, str]) -> list[Diagnostic]:
    """Copied files (by source path) whose output path is a page's or a folder of pages, or
    lies under a page's path."""
    if not assets:
        return []
    page_paths = set(pages)
    ordered = sorted(page_paths)

    def holds_pages(folder: str) -> bool:
        at = bisect.bisect_left(ordered, folder + "/")
        return at < len(ordered) and ordered[at].startswith(folder + "/")

    return [
        Diagnostic.error(source, 0, "copy-clashes-with-page", target=out)
        for source, out in sorted(assets.items())
        if out in page_paths
        or holds_pages(out)
        or any(a in page_paths for a in _ancestors(posixpath.dirname(out)))
    ]


def _ancestors(folder: str) -> list[str]:
    out = []
    while folder:
        out.append(folder)
        folder = posixpath.dirname(folder)
    return out
