"""The ``site`` global of templates: what a template may ask of the site beyond its page's
context. Read-only, and it records what it is asked.

Every question that reads site state is a ``Read``: a query name and its arguments (item
keys, unit ids, years). While a page renders, ``recording()`` collects the reads of that page;
they are the page's dependencies beyond its context and templates. ``evaluate()`` answers a
read again without recording it, so that a later build can tell whether the answer changed.
Helpers that only compute from their arguments (``counts``, ``fulfilment``, ``series``...)
record nothing: their arguments came from the context or from recorded reads.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from markupsafe import Markup

from generator.content.settings import SiteConfig
from generator.kinds.kind import Kind, Registry
from generator.pages.base import count_kinds, related
from generator.site import search, stats
from generator.site.bodies import Rendered, full_body
from generator.site.model import Item, Page, Pledge, Profile, Report, Site, Unit
from generator.site.urls import UrlPlan

Arg = str | int | None | tuple[Any, ...]


class Read(NamedTuple):
    """One input a page read through the view: a query and its arguments (a named tuple:
    hashed and compared in C, as builds handle hundreds of thousands of them)."""

    query: str
    args: tuple[Arg, ...] = ()

    def encode(self) -> str:
        """As text for the cache (an argument that is not plain data is kept as its repr)."""
        return json.dumps([self.query, *self.args], ensure_ascii=False, default=repr)

    @staticmethod
    def decode(text: str) -> Read:
        query, *args = json.loads(text)
        return Read(str(query), tuple(tuple(a) if isinstance(a, list) else a for a in args))


class Recorder:
    """Collects the reads of the page being rendered (none while no page renders)."""

    def __init__(self) -> None:
        self._reads: set[Read] | None = None
        self.path = ""  # the output path of the page being rendered

    def add(self, read: Read) -> None:
        if self._reads is not None:
            self._reads.add(read)

    @contextlib.contextmanager
    def page(self, path: str = "") -> Iterator[set[Read]]:
        reads: set[Read] = set()
        self._reads, self.path = reads, path
        try:
            yield reads
        finally:
            self._reads, self.path = None, ""


class Queries:
    """The answers to reads, from the site model and the photos' sizes, memoised."""

    def __init__(
        self, site: Site, plan: UrlPlan, photos: Mapping[str, tuple[Any, ...]] | None = None
    ) -> None:
        self.site = site
        self.plan = plan
        # a photo's source path -> the sizes it was resized to (empty: shown as it is)
        self.photos: Mapping[str, tuple[Any, ...]] = photos or {}
        self.by_key: Mapping[str, Item | Page] = site.item_by_key()
        self._memo: dict[Read, Any] = {}
        self._pledges: dict[tuple[str, int], Pledge] | None = None
        self._related: dict[str, tuple[Item, ...]] = {}
        self._table: dict[str, Callable[..., Any]] = {
            "item": self.by_key.__getitem__,
            "unit": site.unit_by_id.__getitem__,
            "units": lambda: site.units,
            "years": lambda: site.years,
            "pages": lambda: site.pages,
            "items": site.items,
            "tags": lambda: tuple((t, len(site.by_tag[t]), plan.tags[t]) for t in site.tags),
            "year_items": site.of_year,
            "search_item": self._search_item,
            "unit_counts": self._unit_counts,
            "speaker": self._speaker,
            "spoke_at": self._spoke_at,
            "related": lambda key: related(site, self.by_key[key], memo=self._related),
            "unit_fulfilment": lambda unit_id, year: stats.unit_fulfilment(site, unit_id, year),
            "branch_table": lambda unit_id: stats.branch_table(site, unit_id),
            "unit_table": lambda unit_id: stats.unit_table(site, unit_id),
            "branch_history": lambda unit_id: stats.branch_fulfilment(site, unit_id),
            "branch_pledge": self._branch_pledge,
            "config": lambda name: getattr(site.config, name),
            "photo": lambda source: self.photos.get(source, ()),
            "photos": lambda: tuple(sorted(self.photos)),
        }

    def evaluate(self, read: Read) -> Any:
        """The answer to ``read``; raises ``KeyError`` for an unknown query or argument."""
        if read in self._memo:
            return self._memo[read]
        query = self._table.get(read.query)
        if query is None:
            raise ValueError(f"the site view has no query {read.query!r}")
        answer = query(*read.args)
        self._memo[read] = answer
        return answer

    def _unit_counts(self, unit_id: str) -> dict[str, int]:
        return count_kinds(self.site, self.site.by_unit.get(unit_id, ()))

    def _search_item(self, number: int) -> Item:
        """The item numbered ``number`` in the search index (raises IndexError past the end)."""
        return self.site.chronological()[number]

    def _speaker(self, report_key: str, name: str) -> Profile | None:
        key = self.site.speaker_links.get((report_key, name))
        found = self.by_key.get(key) if key else None
        return found if isinstance(found, Profile) else None

    def _spoke_at(self, profile_key: str) -> tuple[Report, ...]:
        found = (self.by_key[key] for key in self.site.talks.get(profile_key, ()))
        return tuple(r for r in found if isinstance(r, Report))

    def _branch_pledge(self, unit_id: str, year: int) -> Pledge | None:
        if self._pledges is None:
            self._pledges = stats.pledge_index(self.site)
        return stats.pledge_for(self.site, unit_id, year, self._pledges)


class ConfigView:
    """The ``config`` global of templates: the site configuration, recording which keys a
    page reads."""

    def __init__(self, config: SiteConfig, recorder: Recorder) -> None:
        self._config = config
        self._recorder = recorder

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._config, name)
        self._recorder.add(Read("config", (name,)))
        return value


class PhotoVariants(Mapping[str, tuple[Any, ...]]):
    """The ``photo_variants`` global of templates: the sizes each photo was resized to, by
    its source path; every photo asked for is a recorded read of the page, so that a page is
    made again when a photo it shows is replaced, and only then."""

    def __init__(self, ask: Callable[..., Any]) -> None:
        self._ask = ask

    def __getitem__(self, source: str) -> tuple[Any, ...]:
        found: tuple[Any, ...] = self._ask("photo", source)
        if not found:
            raise KeyError(source)
        return found

    def __iter__(self) -> Iterator[str]:
        return iter(self._ask("photos"))

    def __len__(self) -> int:
        return len(self._ask("photos"))


class SiteView:
    """What templates may ask of the site beyond a page's own context. Read-only."""

    def __init__(
        self,
        site: Site,
        plan: UrlPlan,
        bodies: Mapping[str, Rendered],
        queries: Queries | None = None,
    ) -> None:
        # the URL plan and the converted bodies are not for templates: a template reaches
        # them only through the methods below, which record what they read
        self._plan = plan
        self._bodies = bodies
        self._recorder = Recorder()
        self._queries = queries or Queries(site, plan)
        self._search: search.Index | None = None
        self.config = ConfigView(site.config, self._recorder)
        self.photo_variants = PhotoVariants(self._ask)
        self.edition = site.edition
        self.editions = site.editions
        self._current_year = site.config.current_year

    def _ask(self, query: str, *args: Arg) -> Any:
        read = Read(query, args)
        self._recorder.add(read)
        return self._queries.evaluate(read)

    def recording(self, path: str = "") -> contextlib.AbstractContextManager[set[Read]]:
        """Collect the reads of the page at ``path``: ``with view.recording(path) as
        reads: ...``."""
        return self._recorder.page(path)

    @property
    def current_page(self) -> str:
        """The output path of the page being rendered ("" between pages)."""
        return self._recorder.path

    # -- the organisation tree, the years, the free pages --------------------------------

    @property
    def units(self) -> tuple[Unit, ...]:
        return self._ask("units")  # type: ignore[no-any-return]

    @property
    def years(self) -> tuple[int, ...]:
        return self._ask("years")  # type: ignore[no-any-return]

    @property
    def pages(self) -> tuple[Page, ...]:
        return self._ask("pages")  # type: ignore[no-any-return]

    def unit(self, unit_id: str) -> Unit:
        return self._ask("unit", unit_id)  # type: ignore[no-any-return]

    def unit_chain(self, unit_id: str) -> tuple[Unit, ...]:
        unit = self.unit(unit_id)
        return (*(self.unit(a) for a in unit.ancestors), unit)

    # -- content items ---------------------------------------------------------------------

    @property
    def kinds(self) -> tuple[Kind[Any], ...]:
        """The kinds filed under units and years, in the registry's order (part of the code
        a build runs, so not a recorded read)."""
        return self._queries.site.kinds.yearly()

    def kind(self, name: str) -> Kind[Any]:
        return self._queries.site.kinds[name]

    @property
    def registry(self) -> Registry:
        return self._queries.site.kinds

    def items(self) -> tuple[Item, ...]:
        """Every profile, report and pledge."""
        return tuple(self._ask("items"))

    def tag_counts(self) -> tuple[tuple[str, int], ...]:
        """Every tag with the number of items that carry it."""
        return tuple((tag, count) for tag, count, _path in self._ask("tags"))

    def summary(self, item: Item) -> str:
        if item.summary:
            return item.summary
        self._recorder.add(Read("item", (item.key,)))  # the summary comes from its body
        body = self._bodies.get(item.key)
        return body.text_summary if body else ""

    def speaker(self, report: Report, name: str) -> Profile | None:
        return self._ask("speaker", report.key, name)  # type: ignore[no-any-return]

    def spoke_at(self, profile: Profile) -> tuple[Report, ...]:
        return self._ask("spoke_at", profile.key)  # type: ignore[no-any-return]

    def related(self, item: Item) -> tuple[Item, ...]:
        return self._ask("related", item.key)  # type: ignore[no-any-return]

    def unit_counts(self, unit_id: str) -> dict[str, int]:
        return dict(self._ask("unit_counts", unit_id))

    def search_data(self, part: str, number: int) -> Markup:
        """One file of the search index (``search.script``). The file of one result reads
        its item alone (it shows no unit); the others the whole index, computed once, from
        every item and unit."""
        if part == "x":
            item = self._ask("search_item", number)
            body = full_body(self._bodies, item.key)
            doc = search.document(self._queries.site, self._plan, item, body.text if body else "")
            return Markup(search.to_script(f"x/{number}", search.result_row(doc)))
        self._recorder.add(Read("units"))
        self._recorder.add(Read("items"))
        return Markup(search.script(self.search_index(), part, number))

    def use_search_index(self, index: search.Index) -> None:
        """Answer ``search_data`` from ``index`` (the build computes it before the workers
        start, so that they share it, patched from the last build's where it can be)."""
        self._search = index

    def forget_search_index(self) -> bool:
        """Let go of the index given to ``use_search_index`` once its files are written (its
        postings are the largest thing a build holds); a later ``search_data`` computes it
        again. Whether there was one to let go of."""
        held, self._search = self._search is not None, None
        return held

    def search_index(self) -> search.Index:
        """The whole search index: the one given to ``use_search_index``, else computed once
        from the bodies the view holds."""
        if self._search is None:
            found = {key: full_body(self._bodies, key) for key in self._bodies}
            texts = {key: body.text for key, body in found.items() if body is not None}
            self._search = search.build_index(self._queries.site, self._plan, texts)
        return self._search

    # -- pledges ---------------------------------------------------------------------------

    def unit_fulfilment(self, unit_id: str, year: int | None = None) -> stats.Fulfilment:
        return self._ask("unit_fulfilment", unit_id, year)  # type: ignore[no-any-return]

    def branch_table(self, unit_id: str) -> tuple[tuple[int, ...], tuple[stats.BranchRow, ...]]:
        return self._ask("branch_table", unit_id)  # type: ignore[no-any-return]

    def unit_table(self, unit_id: str) -> tuple[tuple[int, ...], tuple[stats.BranchRow, ...]]:
        """The fulfilment table of a unit: its own pledges and those of each unit below it,
        year by year (see ``stats.unit_table``)."""
        return self._ask("unit_table", unit_id)  # type: ignore[no-any-return]

    def branch_history(self, pledge: Pledge) -> tuple[tuple[Pledge, stats.Fulfilment], ...]:
        return self._ask("branch_history", pledge.unit)  # type: ignore[no-any-return]

    def branch_pledge(self, profile: Profile) -> Pledge | None:
        return self._ask("branch_pledge", profile.unit, profile.year)  # type: ignore[no-any-return]

    # -- computed from the arguments alone -------------------------------------------------

    def counts(self, items: Iterable[Item]) -> dict[str, int]:
        return count_kinds(self._queries.site, items)

    def pledge_progress(self, pledges: Iterable[Pledge]) -> tuple[int, int, int]:
        """(items done, items in all, whole percent) over several pledges."""
        done = total = 0
        for pledge in pledges:
            done += pledge.done_count
            total += len(pledge.items)
        return done, total, round(100 * done / total) if total else 0

    def fulfilment(self, pledges: Iterable[Pledge]) -> stats.Fulfilment:
        return stats.fulfilment(pledges, self._current_year)

    def overdue(self, pledge: Pledge, item: Any) -> bool:
        return stats.is_overdue(pledge, item, self._current_year)

    def series(self, rows: Iterable[stats.Counts], name: str) -> tuple[tuple[str, int], ...]:
        return stats.series(rows, name)
