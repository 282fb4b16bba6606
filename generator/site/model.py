"""SourceDocs -> Site: the organisation tree, the content collections and their indexes.

Pure: no I/O. Everything is validated here that needs more than one file to know (unknown
units, duplicates, cycles, missing photos). The Site is frozen and every collection sorted, so
later stages see one deterministic order.
"""

from __future__ import annotations

import datetime as dt
import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from generator.base import hanzi
from generator.base.config import BuildOptions, SiteConfig
from generator.base.errors import Diagnostic
from generator.content import fields as schema
from generator.content.loader import SourceDoc, SourceTree

STATIC_DIR = "static"
EMPTY_BODY_WARNED = ("profile", "report", "page")  # kinds whose body is their content


@dataclass(frozen=True, slots=True)
class Unit:
    id: str
    name: str
    parent: str | None
    kind: str
    order: int
    path: str
    line: int
    ancestors: tuple[str, ...] = ()  # root first, without the unit itself
    children: tuple[str, ...] = ()

    @property
    def depth(self) -> int:
        return len(self.ancestors)


@dataclass(frozen=True, slots=True)
class Asset:
    """A file of the source that a page uses (photo, attachment)."""

    source: str  # relative to the site source
    size: int

    @property
    def name(self) -> str:
        return posixpath.basename(self.source)


@dataclass(frozen=True, slots=True)
class Item:
    """What every content item has."""

    key: str  # the source path, unique
    kind: str
    title: str
    unit: str
    year: int
    date: dt.date | None
    tags: tuple[str, ...]
    summary: str
    slug: str  # as given in front matter; '' means derive from the title
    draft: bool
    body: str
    body_line: int
    digest: str
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)
    updated: dt.date | None = None  # last change in git history


@dataclass(frozen=True, slots=True)
class Profile(Item):
    name: str = ""
    honors: tuple[str, ...] = ()
    position: str = ""
    photo: Asset | None = None
    party_member: bool | None = None


@dataclass(frozen=True, slots=True)
class Report(Item):
    event: str = ""
    speakers: tuple[str, ...] = ()
    attachments: tuple[Asset, ...] = ()


@dataclass(frozen=True, slots=True)
class PledgeItem:
    text: str
    status: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Review:
    rating: str = ""
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Pledge(Item):
    items: tuple[PledgeItem, ...] = ()
    secretary: str = ""
    review: Review | None = None

    @property
    def done_count(self) -> int:
        return sum(1 for i in self.items if i.status == "done")

    @property
    def progress(self) -> int:
        """Share of items done, in whole percent."""
        return round(100 * self.done_count / len(self.items)) if self.items else 0


@dataclass(frozen=True, slots=True)
class Page(Item):
    order: int = 0


@dataclass(frozen=True, slots=True)
class Site:
    config: SiteConfig
    units: tuple[Unit, ...]  # tree order (pre-order, siblings by order then name)
    profiles: tuple[Profile, ...]
    reports: tuple[Report, ...]
    pledges: tuple[Pledge, ...]
    pages: tuple[Page, ...]
    unit_by_id: Mapping[str, Unit] = field(default_factory=dict)
    # every item of a unit and of all its descendants (roll-up), in each collection's order
    by_unit: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    years: tuple[int, ...] = ()  # newest first
    tags: tuple[str, ...] = ()  # by pinyin
    by_tag: Mapping[str, tuple[Item, ...]] = field(default_factory=dict)
    # (report key, speaker name) -> profile key, for speakers who have a profile that year
    speaker_links: Mapping[tuple[str, str], str] = field(default_factory=dict)
    # profile key -> keys of the reports the worker spoke at, newest first
    talks: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # issue 4: the year of this archived edition (None: the live site), and the years of the
    # frozen editions the live site links to, newest first (none inside an edition)
    edition: int | None = None
    editions: tuple[int, ...] = ()
    # in an edition: the source files of other years' items and their photos and attachments
    # (not copied; links to them in bodies become plain text)
    left_out: frozenset[str] = frozenset()
    # position of each unit in tree order, for sorting without scanning the tree
    unit_rank: Mapping[str, int] = field(default_factory=dict)

    def items(self) -> tuple[Item, ...]:
        return (*self.profiles, *self.reports, *self.pledges)

    def of_year(self, year: int) -> tuple[Item, ...]:
        return tuple(i for i in self.items() if i.year == year)


# ---------------------------------------------------------------------------------------------
# site.yaml and units.yaml


def build_config(tree: SourceTree, problems: list[Diagnostic]) -> SiteConfig:
    doc = tree.site
    if doc is None or doc.data is None:
        return SiteConfig()
    if not isinstance(doc.data, dict):
        problems.append(Diagnostic.error("site.yaml", 1, "expected-mapping-file"))
        return SiteConfig()
    values, found = schema.validate("site", doc.data, "site.yaml", doc.lines)
    problems.extend(found)
    return SiteConfig(**values)


def build_units(tree: SourceTree, problems: list[Diagnostic]) -> tuple[Unit, ...]:
    doc = tree.units
    path = "units.yaml"
    if doc is None or doc.data is None:
        return ()
    if not isinstance(doc.data, list):
        problems.append(Diagnostic.error(path, 1, "expected-unit-list"))
        return ()
    raw: dict[str, Unit] = {}
    for index, entry in enumerate(doc.data):
        line = doc.lines.get(str(index), 1)
        if not isinstance(entry, dict):
            problems.append(Diagnostic.error(path, line, "expected-unit-mapping"))
            continue
        ctx = schema.Context(path, doc.lines, problems, line)
        values = schema.check_fields(ctx, schema.SPECS["unit"], entry, prefix=f"{index}.")
        if "id" not in values or "name" not in values:
            continue
        unit_id = values["id"]
        if unit_id in raw:
            problems.append(
                Diagnostic.error(
                    path,
                    doc.lines.get(f"{index}.id", line),
                    "duplicate-unit",
                    f"{index}.id",
                    id=unit_id,
                    first=raw[unit_id].line,
                )
            )
            continue
        raw[unit_id] = Unit(
            unit_id,
            values["name"],
            values.get("parent") or None,
            values.get("kind", ""),
            values.get("order", 0),
            path,
            line,
        )
    index_of = {
        str(entry.get("id")): index
        for index, entry in reversed(list(enumerate(doc.data)))
        if isinstance(entry, dict)
    }
    suggest_parent = schema.Suggestions(raw)
    for unit in raw.values():
        if unit.parent is not None and unit.parent not in raw:
            key = f"{index_of.get(unit.id, 0)}.parent"
            problems.append(
                Diagnostic.error(
                    path,
                    doc.lines.get(key, unit.line),
                    "unknown-parent",
                    key,
                    id=unit.id,
                    parent=unit.parent,
                    suggestion=suggest_parent(unit.parent),
                )
            )
    # cycles: follow parents until a root, an unknown parent, a unit already followed, or a
    # repeat (a cycle). Each unit is followed once: linear even for deep trees and many units.
    in_cycle: set[str] = set()
    done: set[str] = set()
    for unit in raw.values():
        chain: dict[str, None] = {}
        current: str | None = unit.id
        while current in raw and current not in chain and current not in done:
            chain[current] = None
            current = raw[current].parent
        done.update(chain)
        if current not in chain:
            continue
        walked = list(chain)
        cycle = walked[walked.index(current) :]
        for k, member in enumerate(cycle):
            in_cycle.add(member)
            problems.append(
                Diagnostic.error(
                    path,
                    raw[member].line,
                    "unit-cycle",
                    "parent",
                    id=member,
                    chain=" → ".join([*cycle[k:], *cycle[:k], member]),
                )
            )
    valid = {uid: u for uid, u in raw.items() if uid not in in_cycle}
    children: dict[str | None, list[Unit]] = defaultdict(list)
    for unit in valid.values():
        parent = unit.parent if unit.parent in valid else None
        children[parent].append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda u: (u.order, hanzi.text_pinyin(u.name), u.id))
    ordered: list[Unit] = []
    stack: list[tuple[Unit, tuple[str, ...]]] = [(u, ()) for u in reversed(children[None])]
    while stack:  # iterative pre-order: deep trees must not hit the recursion limit
        unit, ancestors = stack.pop()
        kids = children.get(unit.id, [])
        ordered.append(
            Unit(
                unit.id,
                unit.name,
                unit.parent,
                unit.kind,
                unit.order,
                unit.path,
                unit.line,
                ancestors,
                tuple(k.id for k in kids),
            )
        )
        stack.extend((k, (*ancestors, unit.id)) for k in reversed(kids))
    return tuple(ordered)


# ---------------------------------------------------------------------------------------------
# content documents


def _asset(
    doc: SourceDoc, key: str, ref: str, tree: SourceTree, problems: list[Diagnostic]
) -> Asset | None:
    """Resolve a path given in front matter: relative to the file, else relative to static/."""
    clean = ref.strip().replace("\\", "/")
    candidates = []
    if not clean.startswith("/"):
        candidates.append(posixpath.normpath(posixpath.join(posixpath.dirname(doc.path), clean)))
    candidates.append(posixpath.normpath(posixpath.join(STATIC_DIR, clean.lstrip("/"))))
    for candidate in candidates:
        if candidate.startswith("../") or candidate == "..":
            continue
        if candidate in tree.files:
            return Asset(candidate, tree.files[candidate])
    problems.append(
        Diagnostic.error(
            doc.path,
            doc.lines.get(key, 1),
            "missing-asset",
            key,
            ref=ref,
            folder=posixpath.dirname(doc.path) or ".",
        )
    )
    return None


def _common(
    doc: SourceDoc, values: dict[str, Any], title: str, unit: str, year: int, date: dt.date | None
) -> dict[str, Any]:
    return {
        "key": doc.path,
        "kind": doc.kind,
        "title": title,
        "unit": unit,
        "year": year,
        "date": date,
        "tags": values.get("tags", ()),
        "summary": values.get("summary", ""),
        "slug": values.get("slug", ""),
        "draft": values.get("draft", False),
        "body": doc.body,
        "body_line": doc.body_line,
        "digest": doc.digest,
        "lines": doc.lines,
        "updated": doc.updated,
    }


def build_item(
    doc: SourceDoc,
    tree: SourceTree,
    units: Mapping[str, Unit],
    problems: list[Diagnostic],
    suggest: Callable[[str], str] | None = None,
) -> Item | None:
    values, found = schema.validate(doc.kind, doc.meta, doc.path, doc.lines)
    problems.extend(found)
    if any(d.is_error for d in found):
        return None
    unit_field = "branch" if doc.kind == "pledge" else "unit"
    unit = values.get(unit_field, "")
    if doc.kind != "page" and unit not in units:
        problems.append(
            Diagnostic.error(
                doc.path,
                doc.lines.get(unit_field, 1),
                "unknown-unit",
                unit_field,
                unit=unit,
                suggestion=(suggest or schema.Suggestions(units))(unit),
            )
        )
        return None
    before = len(problems)
    item: Item
    if doc.kind == "profile":
        photo = _asset(doc, "photo", values["photo"], tree, problems) if "photo" in values else None
        item = Profile(
            **_common(
                doc, values, values["name"], unit, values["year"], values.get("date", doc.created)
            ),
            name=values["name"],
            honors=values["honors"],
            position=values.get("position", ""),
            photo=photo,
            party_member=values.get("party_member"),
        )
    elif doc.kind == "report":
        attachments = tuple(
            a
            for i, ref in enumerate(values.get("attachments", ()))
            if (a := _asset(doc, f"attachments.{i}", ref, tree, problems)) is not None
        )
        item = Report(
            **_common(doc, values, values["title"], unit, values["date"].year, values["date"]),
            event=values.get("event", ""),
            speakers=values.get("speakers", ()),
            attachments=attachments,
        )
    elif doc.kind == "pledge":
        review = values.get("review")
        item = Pledge(
            **_common(
                doc, values, units[unit].name, unit, values["year"], values.get("date", doc.created)
            ),
            items=tuple(
                PledgeItem(i["text"], i["status"], i.get("note", "")) for i in values["items"]
            ),
            secretary=values.get("secretary", ""),
            review=Review(review.get("rating", ""), review.get("comment", "")) if review else None,
        )
    else:
        item = Page(
            **_common(doc, values, values["title"], "", 0, None), order=values.get("order", 0)
        )
    if len(problems) != before:
        return None
    if doc.kind in EMPTY_BODY_WARNED and not doc.body.strip():
        # only front matter: the page would show the fields and no story (a pledge's items are
        # its content, so an empty pledge body is fine)
        problems.append(Diagnostic.warning(doc.path, max(doc.body_line - 1, 1), "empty-body"))
    return item


def _check_duplicates(items: Iterable[Item], problems: list[Diagnostic]) -> None:
    seen: dict[tuple[str, int, str], Item] = {}
    for item in items:
        if isinstance(item, Pledge):
            key = ("pledge-branch", item.year, item.unit)
            code, field_name = "duplicate-pledge", "branch"
        elif item.slug:
            key = (item.kind, item.year, item.slug)
            code, field_name = "duplicate-slug", "slug"
        else:
            continue
        if key in seen:
            first = seen[key]
            problems.append(
                Diagnostic.error(
                    item.key,
                    item.lines.get(field_name, 1),
                    code,
                    field_name,
                    slug=item.slug,
                    year=item.year,
                    unit=item.unit,
                    first=first.key,
                )
            )
        else:
            seen[key] = item


def build_site(tree: SourceTree, options: BuildOptions) -> tuple[Site, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    config = build_config(tree, problems)
    units = build_units(tree, problems)
    unit_by_id = {u.id: u for u in units}
    suggest_unit = schema.Suggestions(unit_by_id)
    built = [build_item(doc, tree, unit_by_id, problems, suggest_unit) for doc in tree.docs]
    items = [i for i in built if i is not None and (options.drafts or not i.draft)]
    _check_duplicates(items, problems)
    edition = options.edition_year
    left_out: frozenset[str] = frozenset()
    if edition is not None:
        # an archived edition: that year's profiles, reports and pledges, every unit and the
        # free pages; nothing links to the live site (no absolute URLs in feed and sitemap)
        kept = [i for i in items if isinstance(i, Page) or i.year == edition]
        others = [i for i in items if not (isinstance(i, Page) or i.year == edition)]
        left_out = (_sources(others) - _sources(kept)) | {i.key for i in others}
        items = kept
        config = SiteConfig(**{**_fields(config), "current_year": edition, "base_url": ""})
    name_key = hanzi.name_sort_key(config.name_order)
    profiles = sorted(
        (i for i in items if isinstance(i, Profile)),
        key=lambda p: (-p.year, name_key(p.name), p.key),
    )
    reports = sorted(
        (i for i in items if isinstance(i, Report)),
        key=lambda r: (-r.year, -(r.date or dt.date.min).toordinal(), r.key),
    )
    unit_rank = {u.id: n for n, u in enumerate(units)}
    pledges = sorted(
        (i for i in items if isinstance(i, Pledge)),
        key=lambda p: (-p.year, unit_rank.get(p.unit, 0), p.key),
    )
    pages = sorted((i for i in items if isinstance(i, Page)), key=lambda p: (p.order, p.key))
    content: list[Item] = [*profiles, *reports, *pledges]
    years = tuple(sorted({i.year for i in content}, reverse=True))
    if not config.current_year and years:
        config = SiteConfig(**{**_fields(config), "current_year": years[0]})
    by_unit: dict[str, list[Item]] = defaultdict(list)
    for item in content:
        unit = unit_by_id[item.unit]
        for uid in (*unit.ancestors, unit.id):
            by_unit[uid].append(item)
    by_tag: dict[str, list[Item]] = defaultdict(list)
    for item in content:
        for tag in item.tags:
            by_tag[tag].append(item)
    tags = tuple(sorted(by_tag, key=lambda t: (hanzi.text_pinyin(t), t)))
    profile_of: dict[tuple[int, str], list[Profile]] = defaultdict(list)
    for profile in profiles:
        profile_of[(profile.year, profile.name)].append(profile)
    speaker_links: dict[tuple[str, str], str] = {}
    for report in reports:
        for speaker in report.speakers:
            matches = profile_of.get((report.year, speaker), [])
            # with namesakes prefer the one in the report's own part of the tree
            near = [
                p for p in matches if report.unit in (*unit_by_id[p.unit].ancestors, p.unit)
            ] or matches
            if near:
                speaker_links[(report.key, speaker)] = near[0].key
    talks: dict[str, list[str]] = defaultdict(list)
    for (report_key, _speaker), profile_key in speaker_links.items():
        if report_key not in talks[profile_key]:
            talks[profile_key].append(report_key)
    site = Site(
        config,
        units,
        tuple(profiles),
        tuple(reports),
        tuple(pledges),
        tuple(pages),
        unit_by_id,
        {k: tuple(v) for k, v in by_unit.items()},
        years,
        tags,
        {k: tuple(v) for k, v in by_tag.items()},
        speaker_links,
        {k: tuple(v) for k, v in talks.items()},
        edition,
        () if edition is not None else tuple(sorted(tree.editions, reverse=True)),
        left_out,
        unit_rank,
    )
    return site, problems


def _sources(items: Iterable[Item]) -> frozenset[str]:
    """The photos and attachments of some items (source paths)."""
    found: set[str] = set()
    for item in items:
        if isinstance(item, Profile) and item.photo is not None:
            found.add(item.photo.source)
        elif isinstance(item, Report):
            found.update(a.source for a in item.attachments)
    return frozenset(found)


def _fields(config: SiteConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
