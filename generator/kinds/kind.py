"""The description of a content kind, and the registry of kinds that the rest iterates.

A kind is its model class (whose dataclass fields declare the source fields: see
``generator.content.fields.front``) plus what the rest of the pipeline needs to know of it:
its folder, how items are ordered and derived, how the build treats them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from generator.content.fields import Field, Spec, declared, spec_of
from generator.content.settings import SiteConfig
from generator.kinds.item import Item

ModelT = TypeVar("ModelT", bound=Item)


@dataclass(frozen=True, slots=True)
class Ordering:
    """What a kind's order of items may use besides the items."""

    name_key: Callable[[str], Any]  # the sort key of a person's name (pinyin or strokes)
    unit_rank: Mapping[str, int]  # position of each unit in tree order


@dataclass(frozen=True, slots=True)
class Derivation:
    """What a kind may use to derive attributes that are not read from the source."""

    unit_name: Callable[[str], str]  # a unit's name by its id


def newest_first(item: Item, _ordering: Ordering) -> tuple[Any, ...]:
    """Newest year first, then newest date, then source path."""
    return (-item.year, -(item.date or dt.date.min).toordinal(), item.key)


def nothing_derived(_values: Mapping[str, Any], _derivation: Derivation) -> dict[str, Any]:
    return {}


def year_of_date(values: Mapping[str, Any], _derivation: Derivation) -> dict[str, Any]:
    """The item is filed under the year of its (required) date."""
    return {"year": values["date"].year}


@dataclass(frozen=True, slots=True)
class Kind(Generic[ModelT]):
    name: str  # the kind's id: SourceDoc.kind, the detail template <name>.html, catalog keys
    folder: str  # the source folder of its files, also its URL section
    model: type[ModelT]  # the frozen dataclass of its items; its fields declare the source
    # attributes computed from the checked values (title from name, year from date ...)
    derive: Callable[[Mapping[str, Any], Derivation], Mapping[str, Any]] = nothing_derived
    order: Callable[[ModelT, Ordering], tuple[Any, ...]] = newest_first
    yearly: bool = True  # filed under a unit and a year, listed and counted (free pages: not)
    warn_empty_body: bool = True  # a body-less file is warned about (the body is the content)
    one_per_unit: bool = False  # at most one item per unit and year (else: unique slugs)
    # the kinds of unit (units.yaml ``kind``) its items may be filed for, read from the site's
    # settings; None: any unit
    unit_kinds: Callable[[SiteConfig], tuple[str, ...]] | None = None
    # what visitors call the kind's items (an English msgid of the theme's catalogs, which
    # translate it: "Videos" -> 视频)
    label: str = ""

    @property
    def template(self) -> str:
        """The detail page's template."""
        return f"{self.name}.html"

    @property
    def fields(self) -> tuple[Field, ...]:
        """The source fields, as validation checks them."""
        return declared(self.model)

    @property
    def unit_key(self) -> str:
        """The source field read into ``unit`` ('' when the kind has no unit)."""
        specs = dict(spec_of(self.model))
        return (specs["unit"].key or "unit") if "unit" in specs else ""

    def source_order(self) -> tuple[tuple[str, Spec], ...]:
        """(attribute, Spec) of the source fields in the order editors read them (docs,
        scaffold): the required ones, then the kind's own optional ones, then the optional
        ones every kind shares; each group in declaration order."""
        shared = {f.name for f in dataclasses.fields(Item)}
        declared_here = list(spec_of(self.model))
        return (
            *((a, s) for a, s in declared_here if s.required),
            *((a, s) for a, s in declared_here if not s.required and a not in shared),
            *((a, s) for a, s in declared_here if not s.required and a in shared),
        )

    def dates_from_source(self) -> bool:
        """Whether ``date`` is a source field (an absent one defaults to the file's date)."""
        return any(attr == "date" for attr, _spec in spec_of(self.model))


@dataclass(frozen=True, slots=True)
class Registry:
    """The content kinds of a build, in their fixed order (the order of ``Site.items()``)."""

    kinds: tuple[Kind[Any], ...]
    _by_name: Mapping[str, Kind[Any]] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        names = [k.name for k in self.kinds]
        folders = [k.folder for k in self.kinds]
        if len(set(names)) != len(names) or len(set(folders)) != len(folders):
            raise ValueError(f"two kinds share a name or a folder: {names} {folders}")
        object.__setattr__(self, "_by_name", {k.name: k for k in self.kinds})

    def __iter__(self) -> Iterator[Kind[Any]]:
        return iter(self.kinds)

    def __getitem__(self, name: str) -> Kind[Any]:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def folders(self) -> dict[str, str]:
        """Source folder -> kind name."""
        return {k.folder: k.name for k in self.kinds}

    def yearly(self) -> tuple[Kind[Any], ...]:
        """The kinds filed under units and years (all but the free pages)."""
        return tuple(k for k in self.kinds if k.yearly)

    def adding(self, *kinds: Kind[Any]) -> Registry:
        """A new registry with ``kinds`` after these."""
        return Registry((*self.kinds, *kinds))
