"""The front matter values a Word document gives in its own words: the kind, the person's
name, the unit, the year and date, a report's title and speakers. What cannot be told is
left empty; the command then writes the placeholder ``showcase new`` would write."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from generator.content import fields as schema
from generator.importing.units import Matcher
from generator.importing.word import DASH, DATE, SPEAKERS, Converted

HAN_NAME = r"[\u4e00-\u9fff][\u4e00-\u9fff·]{1,4}"
COMRADE = re.compile(rf"(?:关于)?(?P<name>{HAN_NAME}?)同志")
NAME_LINE = re.compile(rf"^(?:姓\s*名)[:：]\s*(?P<name>{HAN_NAME})")
STORY_OF = re.compile(rf"^(?P<name>{HAN_NAME}?)(?:同志)?的?(?:先进|个人|典型)*事迹")
NOT_NAMES = ("先进", "个人", "典型", "主要", "关于")  # title words, never a name
BIO_LINE = re.compile(rf"^(?P<name>{HAN_NAME}?)[，,]\s*(?:男|女)")
# "——记第一采油厂张秀兰" (also —记, ──记, --记), never a byline "——记者 李明"
ABOUT = re.compile(rf"{DASH}\s*记(?!者)(?P<rest>.+)$")
# what "——记…" ends with when it is about a unit or a team rather than a person
ORGANISATION = re.compile(
    r"(?:党委|党总支|党支部|支部|公司|厂|车间|中心|队|站|班|班组|小组|作业区|项目部|团队|集体)$"
)
NAME_SEPARATORS = re.compile(r"[、，,；;\s]+")
BRACKETS = re.compile(r"[（(][^）)]*[）)]")
YEAR_OF = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})\s*年度?")
YEAR_LINES = 3  # the first lines whose years are read (a subtitle, a date, the first paragraph)
# a year of the person's own life, never the year of an honour: "1978年3月出生", "1978年生",
# "2001年入党", "1998年7月参加工作" (the words after the year), "出生于1978年" (before it)
PERSONAL_AFTER = re.compile(
    r"^(?:\s*\d{1,2}\s*月)?(?:\s*\d{1,2}\s*日)?\s*"
    r"(?:出生|生(?=$|[于，,。；;、）)\s])|参加工作|参加革命工作|入党|加入中国共产党)"
)
PERSONAL_BEFORE = re.compile(r"(?:出生于|生于|出生在|出生)\s*$")
# a year beside an honour verb: "2025年被评为", "2025年3月，她荣获", "荣获2025年度"
HONOR_VERBS = "被评为|荣获|获得|授予|评为"
HONOR_AFTER = re.compile(rf"^[^。；;！!？?]{{0,12}}?(?:{HONOR_VERBS})")
HONOR_BEFORE = re.compile(rf"(?:{HONOR_VERBS})了?\s*$")
# words between a unit and a name in "——记第一采油厂采油一队班长张秀兰"
POSITIONS = re.compile(
    r"^(?:党支部书记|支部书记|书记|党员|班长|队长|站长|组长|技术员|工程师|高级技师|技师|师傅|"
    r"主任|副主任|经理|职工|员工|采油工|的|优秀共产党员|劳动模范)+"
)
PROFILE_WORDS = ("事迹",)
REPORT_WORDS = ("经验交流", "交流材料", "交流发言", "经验材料", "典型经验")


@dataclass(frozen=True, slots=True)
class Inferred:
    """What the document says; '' / () / None where it says nothing clear."""

    kind: str
    name: str
    title: str
    units: tuple[str, ...]  # one unit when clear, the candidates when several fit
    year: int | None
    date: dt.date | None
    speakers: tuple[str, ...]
    year_guessed: bool  # the latest year of the first lines, beside no honour verb
    years_skipped: tuple[int, ...]  # years of a birth or of joining work or the party


@dataclass(frozen=True, slots=True)
class Mention:
    """A year written in a line: whether it is of the person's own life (a birth, joining
    work or the party) and whether it stands beside an honour verb."""

    year: int
    personal: bool
    honor: bool


@dataclass(frozen=True, slots=True)
class Year:
    """The year a document gives, whether it is only the latest year found (a guess), and
    the years left out as the person's own."""

    value: int | None
    guessed: bool = False
    skipped: tuple[int, ...] = ()


def guess_kind(doc: Converted) -> str:
    """profile or report from the words of the title and the first lines; '' if neither."""
    head = " ".join((doc.title, *doc.lines[:3]))
    if any(SPEAKERS.match(line) for line in doc.lines):
        return "report"
    if any(word in head for word in REPORT_WORDS):
        return "report"
    if any(word in head for word in PROFILE_WORDS):
        return "profile"
    if any(_about_a_person(line) for line in (doc.title, *doc.lines[:3])):
        return "profile"
    return ""


def _about_a_person(line: str) -> bool:
    """A title or subtitle "……——记第一采油厂采油一队班长张秀兰": the story of a person (not
    of a unit, "——记第一采油厂采油一队")."""
    about = ABOUT.search(line)
    if not about:
        return False
    rest = BRACKETS.sub("", "".join(about["rest"].split())).removesuffix("同志")
    return bool(rest) and not ORGANISATION.search(rest)


def _name_after(rest: str, matcher: Matcher) -> str:
    """The name at the end of "第一采油厂采油一队张秀兰": after the unit and the position."""
    text = "".join(rest.split())
    found = sorted((form for form in matcher.by_form if form in text), key=len, reverse=True)
    if found:
        text = text[text.rindex(found[0]) + len(found[0]) :]
    text = POSITIONS.sub("", BRACKETS.sub("", text)).removesuffix("同志")
    return text if re.fullmatch(HAN_NAME, text) and len(text) <= 4 else ""


def _without_units(text: str, matcher: Matcher) -> str:
    """``text`` without the unit names in it (the longest first)."""
    text = "".join(text.split())
    for form in sorted(matcher.by_form, key=len, reverse=True):
        text = text.replace(form, "")
    return text


def person(doc: Converted, matcher: Matcher) -> str:
    """The person's name: "（第一采油厂）张秀兰（同志）先进事迹材料", "……——记第一采油厂
    张秀兰", a "姓名：" line, or a first line "张秀兰，女，…"."""
    heads = [doc.title, *doc.lines[:2]]
    for line in heads:
        about = ABOUT.search(line)
        if about:
            name = _name_after(about.group("rest"), matcher)
            if name:
                return name
    title = _without_units(doc.title, matcher)
    match = COMRADE.search(title) or STORY_OF.match(title)
    if match and len(match.group("name")) <= 4 and not match["name"].startswith(NOT_NAMES):
        return match.group("name")
    for line in doc.lines[:6]:
        found = NAME_LINE.match(line) or BIO_LINE.match(line)
        if found and len(found.group("name")) <= 4:
            return found.group("name")
    return ""


def speakers(doc: Converted) -> tuple[str, ...]:
    """The names of a 交流人/发言人 line, without the positions in brackets."""
    for line in doc.lines:
        match = SPEAKERS.match(line)
        if match:
            names = NAME_SEPARATORS.split(BRACKETS.sub("", match.group("names")))
            return tuple(dict.fromkeys(n for n in names if re.fullmatch(HAN_NAME, n)))
    return ()


def date(doc: Converted) -> dt.date | None:
    """A line that is only a date (under the title, or the signature's date at the end)."""
    last = [line.strip() for line in doc.body.strip().split("\n")[-3:]]
    for line in (*doc.lines, *last):
        match = DATE.match(line.strip())
        if match:
            try:
                return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                continue
    return None


def mentions(line: str) -> list[Mention]:
    """The years of ``line``, each judged by the words between it and its neighbours."""
    found = list(YEAR_OF.finditer(line))
    result = []
    for number, match in enumerate(found):
        start = found[number - 1].end() if number else 0
        end = found[number + 1].start() if number + 1 < len(found) else len(line)
        before, after = line[start : match.start()], line[match.end() : end]
        personal = bool(PERSONAL_AFTER.match(after) or PERSONAL_BEFORE.search(before))
        honor = bool(HONOR_AFTER.match(after) or HONOR_BEFORE.search(before))
        result.append(Mention(int(match["y"]), personal, honor))
    return result


def year(doc: Converted, when: dt.date | None, latest: int) -> Year:
    """The year of the honour: a year of the title, else the latest year beside an honour
    verb in the first lines, else the date's, else the latest year of the first lines (a
    guess). A year of a birth or of joining work or the party is never taken, nor one
    before 1949 or after ``latest``."""
    title = mentions(doc.title)
    lines = [m for line in doc.lines[:YEAR_LINES] for m in mentions(line)]
    skipped = tuple(dict.fromkeys(m.year for m in (*title, *lines) if m.personal))

    def plausible(found: list[Mention], honored_only: bool = False) -> list[int]:
        return [
            m.year
            for m in found
            if not m.personal
            and schema.YEAR_MIN <= m.year <= latest
            and (m.honor or not honored_only)
        ]

    in_title, others = plausible(title), plausible(lines)
    honored = plausible(lines, honored_only=True)
    if in_title:
        return Year(in_title[0], skipped=skipped)
    if honored:
        return Year(max(honored), skipped=skipped)
    if when:
        return Year(when.year, skipped=skipped)
    if others:
        return Year(max(others), guessed=True, skipped=skipped)
    return Year(None, skipped=skipped)


def units(doc: Converted, matcher: Matcher) -> tuple[str, ...]:
    """The unit the title or the first lines name (the most specific name found)."""
    for line in (doc.title, *doc.lines[:5]):
        found = matcher.find_in("".join(line.split()))
        if found:
            return found
    return ()


def infer(doc: Converted, kind: str, matcher: Matcher, latest: int) -> Inferred:
    """Every value the document gives for a ``kind`` file (no year after ``latest``)."""
    when = date(doc)
    title = ABOUT.sub("", doc.title).strip() if kind == "report" else ""
    name = person(doc, matcher) if kind == "profile" else ""
    talkers = speakers(doc) if kind == "report" else ()
    found = year(doc, when, latest)
    return Inferred(
        kind,
        name,
        title,
        units(doc, matcher),
        found.value,
        when,
        talkers,
        found.guessed,
        found.skipped,
    )
