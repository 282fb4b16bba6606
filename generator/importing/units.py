"""Units named in a document or a roster, matched against units.yaml.

A unit is known by its id, its full name, and its short forms: the full name without the
name of a unit above it at its start (第一采油厂采油一队党支部 -> 采油一队党支部), and each of
those without the party organisation at its end (-> 采油一队).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from generator.site.model import Unit

# what ends the name of a party organisation: without it, the team or plant it belongs to
PARTY_ENDINGS = ("党总支部", "党总支", "党支部", "党委", "总支", "支部")


def _strip_party(name: str) -> str:
    for ending in PARTY_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending) + 1:
            return name[: -len(ending)]
    return name


def forms(unit: Unit, units: Mapping[str, Unit]) -> set[str]:
    """The names a unit is known by: its full name, and its short forms."""
    found = {unit.name}
    parent = units.get(unit.parent) if unit.parent else None
    while parent is not None:
        if unit.name.startswith(parent.name) and len(unit.name) > len(parent.name) + 1:
            found.add(unit.name[len(parent.name) :])
        parent = units.get(parent.parent) if parent.parent else None
    found |= {_strip_party(name) for name in found}
    return {name for name in found if len(name) >= 2}


def _clean(text: str) -> str:
    return "".join(text.split())


@dataclass(frozen=True, slots=True)
class Matcher:
    """Finds the units a text names: by id, full name or short form."""

    units: Mapping[str, Unit]
    by_form: Mapping[str, tuple[str, ...]]  # a name -> the ids of the units known by it

    @classmethod
    def of(cls, units: Mapping[str, Unit]) -> Matcher:
        by_form: dict[str, list[str]] = {}
        for unit in units.values():
            for name in forms(unit, units):
                by_form.setdefault(name, []).append(unit.id)
        return cls(units, {name: tuple(sorted(ids)) for name, ids in by_form.items()})

    def match(self, text: str) -> tuple[str, ...]:
        """The ids of the units a cell or an option names: one when it is clear, several
        when it is ambiguous, none when nothing fits. An exact id, full name or short form
        wins; else the units whose longest name the text contains."""
        name = _clean(text)
        if not name:
            return ()
        if name in self.units:
            return (name,)
        full = [u.id for u in self.units.values() if u.name == name]
        if full:
            return tuple(sorted(full))
        if name in self.by_form:
            return self.by_form[name]
        return self.find_in(name)

    def find_in(self, text: str) -> tuple[str, ...]:
        """The units whose name, the longest found, a longer text contains."""
        found = [form for form in self.by_form if form in text]
        if not found:
            return ()
        longest = max(len(form) for form in found)
        ids: set[str] = set()
        for form in found:
            if len(form) == longest:
                ids.update(self.by_form[form])
        return tuple(sorted(ids))

    def close(self, text: str, limit: int = 3) -> tuple[str, ...]:
        """Units whose names share the most characters with ``text``, for a suggestion."""
        wanted = set(_clean(text))
        if not wanted:
            return ()
        scored = sorted(
            (-len(wanted & set(unit.name)) / len(set(unit.name) | wanted), unit.id)
            for unit in self.units.values()
        )
        return tuple(uid for score, uid in scored[:limit] if score < -0.34)
