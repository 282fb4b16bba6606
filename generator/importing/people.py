"""The people of a roster: each row checked (a name, a unit that units.yaml knows, a year),
rows of the same person merged, and what could not be used reported by row number."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from generator.content import fields as schema
from generator.importing.problems import Note
from generator.importing.roster import Row, Table
from generator.importing.units import Matcher

HONOR_SEPARATORS = re.compile(r"[、，,；;／/\n]+")
# bracketed words after a name: "李四（女）", "王五(已退休)", "马六（回族）（女）"
NAME_NOTES = re.compile(r"(?:[（(][^（）()]*[）)])+$")
YEAR_IN_TITLE = re.compile(r"(?P<y>(?:19|20)\d{2})\s*年")
PARTY_YES = ("是", "党员", "中共党员", "中共预备党员", "预备党员", "yes", "y", "true", "1", "√")
PARTY_NO = ("否", "不是", "群众", "共青团员", "团员", "no", "n", "false", "0", "非党员")


@dataclass(slots=True)
class Person:
    """One profile to create: the rows it comes from and its values."""

    rows: list[int]
    name: str
    unit: str
    year: int
    honors: list[str]
    position: str = ""
    party_member: bool | None = None
    extra: dict[str, str] = field(default_factory=dict)  # gender, ethnicity


@dataclass(frozen=True, slots=True)
class Defaults:
    """What the command line or the file gives for rows that do not say."""

    year: int | None  # --year
    honors: tuple[str, ...]  # --honor
    fallback_year: int  # site.yaml's current year, else this year


def _party(value: str, row: Row, file: str, notes: list[Note]) -> bool | None:
    text = value.strip().lower()
    if not text:
        return None
    if text in PARTY_YES:
        return True
    if text in PARTY_NO or "民主" in text:
        return False
    notes.append(Note("import-roster-bad-party", {"file": file, "row": row.number, "got": value}))
    return None


def _year(row: Row, file: str, default: int, notes: list[Note]) -> int | None:
    text = row.values.get("year", "").removesuffix("年度").removesuffix("年").strip()
    if not text:
        return default
    if text.isdigit() and schema.YEAR_MIN <= int(text) <= schema.YEAR_MAX:
        return int(text)
    notes.append(
        Note("import-roster-bad-year", {"file": file, "row": row.number, "got": row.values["year"]})
    )
    return None


def _unit(row: Row, file: str, matcher: Matcher, notes: list[Note]) -> str:
    """The id of the row's unit; '' (and a note with the candidates) when not one."""
    given = row.values.get("unit", "")
    where = {"file": file, "row": row.number, "unit": given}
    if not given:
        notes.append(Note("import-roster-no-unit", where))
        return ""
    found = matcher.match(given)
    if len(found) == 1:
        return found[0]
    if found:
        notes.append(Note("import-roster-ambiguous-unit", where | {"candidates": found}))
    else:
        close = matcher.close(given)
        code = "import-roster-unknown-unit" if close else "import-roster-unknown-unit-alone"
        notes.append(Note(code, where | {"candidates": close}))
    return ""


def _name(row: Row, file: str, notes: list[Note]) -> str:
    """The row's name without spaces and without the bracketed words after it (told)."""
    given = "".join(row.values.get("name", "").split())
    name = NAME_NOTES.sub("", given)
    if name and name != given:
        where = {"file": file, "row": row.number, "got": given, "name": name}
        notes.append(Note("import-roster-name-note", where | {"note": given[len(name) :]}))
    return name


def _person(
    row: Row, file: str, matcher: Matcher, defaults: Defaults, notes: list[Note]
) -> Person | None:
    name = _name(row, file, notes)
    if not name:
        notes.append(Note("import-roster-no-name", {"file": file, "row": row.number}))
        return None
    unit = _unit(row, file, matcher, notes)
    year = _year(row, file, defaults.year or defaults.fallback_year, notes)
    if not unit or year is None:
        return None
    honors = [h for h in HONOR_SEPARATORS.split(row.values.get("honor", "")) if h.strip()]
    extra = {k: row.values[k] for k in ("gender", "ethnicity") if row.values.get(k)}
    return Person(
        rows=[row.number],
        name=name,
        unit=unit,
        year=year,
        honors=[h.strip() for h in honors] or list(defaults.honors),
        position=row.values.get("position", ""),
        party_member=_party(row.values.get("party", ""), row, file, notes),
        extra=extra,
    )


def _merge(into: Person, other: Person) -> None:
    into.rows.extend(other.rows)
    into.honors.extend(h for h in other.honors if h not in into.honors)
    into.position = into.position or other.position
    if into.party_member is None:
        into.party_member = other.party_member
    into.extra = other.extra | into.extra


def people(roster: Table, matcher: Matcher, defaults: Defaults) -> tuple[list[Person], list[Note]]:
    """The people of the roster, in the order of their first row, and the notes on rows.
    Rows with the same name, unit and year are one person with the honours of both."""
    notes: list[Note] = []
    title_year = YEAR_IN_TITLE.search(roster.title)
    if defaults.year is None and title_year:
        defaults = Defaults(int(title_year["y"]), defaults.honors, defaults.fallback_year)
    found: dict[tuple[str, str, int], Person] = {}
    for row in roster.rows:
        person = _person(row, roster.file, matcher, defaults, notes)
        if person is None:
            continue
        key = (person.name, person.unit, person.year)
        if key in found:
            first = found[key]
            notes.append(
                Note(
                    "import-roster-merged",
                    {
                        "file": roster.file,
                        "row": row.number,
                        "first": first.rows[0],
                        "name": person.name,
                    },
                )
            )
            _merge(first, person)
        else:
            found[key] = person
    return list(found.values()), notes
