"""Chinese text utilities: names split into surname and given name, pinyin read the way a name
is read, sort keys (pinyin, or surname stroke count as in official lists), romanised slugs, and
cutting text by characters.

Readings come from pypinyin and stroke counts from the ``strokes`` package (Unihan
kTotalStrokes). The one piece of data kept here is what those libraries lack: how surnames
that have several readings are read *as surnames*, and which two-character surnames exist.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Any

# Surnames whose reading as a surname differs from the character's common reading.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "单": ("shan",),
    "解": ("xie",),
    "朴": ("piao",),
    "盖": ("ge",),
    "曾": ("zeng",),
    "覃": ("qin",),
    "乐": ("yue",),
    "缪": ("miao",),
    "翟": ("zhai",),
    "种": ("chong",),
    "秘": ("bi",),
    "折": ("she",),
    "召": ("shao",),
    "员": ("yun",),
    "句": ("gou",),
    "繁": ("po",),
    "黑": ("he",),
    "能": ("nai",),
    "祭": ("zhai",),
    "藏": ("zang",),
    "尉": ("wei",),
    "重": ("chong",),
    "长": ("chang",),
    "沈": ("shen",),
    "万": ("wan",),
    "华": ("hua",),
    "任": ("ren",),
    "纪": ("ji",),
    "宁": ("ning",),
    "冼": ("xian",),
    "隗": ("wei",),
    "牟": ("mou",),
    "过": ("guo",),
    "和": ("he",),
    "相": ("xiang",),
    "莘": ("shen",),
    "柏": ("bai",),
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "单于": ("chan", "yu"),
    "长孙": ("zhang", "sun"),
    "澹台": ("tan", "tai"),
}

COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "慕容",
        "令狐",
        "公孙",
        "尉迟",
        "万俟",
        "单于",
        "长孙",
        "夏侯",
        "司徒",
        "司空",
        "轩辕",
        "宇文",
        "澹台",
        "端木",
        "西门",
        "南宫",
        "独孤",
        "呼延",
        "闻人",
        "东郭",
        "钟离",
        "公冶",
        "太史",
        "申屠",
    ]
)

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_SENTENCE_END = "。！？；!?;"


def is_han(char: str) -> bool:
    return "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff"


def split_name(name: str) -> tuple[str, str]:
    """Surname and given name of a Chinese personal name (two-character surnames known)."""
    name = name.strip()
    if len(name) >= 3 and name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    if name and is_han(name[0]):
        return name[:1], name[1:]
    return "", name


_HAN_OR_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]|[^\u3400-\u9fff\uf900-\ufaff]+")


Readings = tuple[tuple[str, ...], tuple[str, ...]]  # pinyin with tone numbers, and without

# readings known before pypinyin is asked (a build keeps them in its cache), and those
# pypinyin gave in this process since ``learned_readings`` was last called
_known: dict[str, Readings] = {}
_learned: dict[str, Readings] = {}


def remember_readings(readings: dict[str, Readings]) -> None:
    """Readings found by an earlier run, used instead of asking pypinyin again."""
    _known.update(readings)


def learned_readings() -> dict[str, Readings]:
    """The readings pypinyin gave since the last call (then forgotten here)."""
    found = dict(_learned)
    _learned.clear()
    return found


@functools.lru_cache(maxsize=65536)
def _both(text: str) -> Readings:
    """Pinyin with tone numbers and without (see ``_convert``), known or converted."""
    found = _known.get(text)
    if found is None:
        found = _learned[text] = _known[text] = _convert(text)
    return found


def _convert(text: str) -> Readings:
    """Pinyin with tone numbers and without, from one conversion (pypinyin is the slow part
    of sorting and slugs): a Chinese character's syllable loses its tone digit; any other run
    is kept as it is."""
    # imported when first needed: its dictionaries take longer to load than a build that
    # finds nothing changed takes in all
    from pypinyin import Style, lazy_pinyin

    toned = tuple(
        s.lower()
        for s in lazy_pinyin(text, style=Style.TONE3, neutral_tone_with_five=True, v_to_u=False)
    )
    pieces = _HAN_OR_RUN.findall(text)
    if len(pieces) != len(toned):  # pypinyin split the text differently: ask again
        plain = tuple(s.lower() for s in lazy_pinyin(text, style=Style.NORMAL, v_to_u=False))
        return toned, plain
    plain = tuple(
        syllable.rstrip("012345") if is_han(piece) else syllable
        for piece, syllable in zip(pieces, toned, strict=True)
    )
    return toned, plain


def _syllables(text: str, tone: bool) -> tuple[str, ...]:
    toned, plain = _both(text)
    return toned if tone else plain


@functools.lru_cache(maxsize=65536)
def name_pinyin(name: str, tone: bool = False) -> tuple[str, ...]:
    """Pinyin syllables of a personal name, with the surname read as a surname."""
    surname, given = split_name(name)
    if surname in SURNAME_READINGS and not tone:
        head = SURNAME_READINGS[surname]
    else:
        head = _syllables(surname, tone) if surname else ()
        if tone and surname in SURNAME_READINGS:
            # keep the surname letters, tones only order syllables with equal letters
            head = tuple(s + "0" for s in SURNAME_READINGS[surname])
    return head + (_syllables(given, tone) if given else ())


def text_pinyin(text: str) -> tuple[str, ...]:
    """Pinyin syllables of ordinary text; runs of other characters are kept as they are."""
    return _syllables(text, False)


def pinyin_key(name: str) -> tuple[tuple[str, ...], str]:
    """Sort key: pinyin of the name (surname read as a surname), then the name itself."""
    return name_pinyin(name, tone=True), name


def stroke_key(name: str) -> tuple[int, tuple[int, ...], tuple[tuple[str, ...], str]]:
    """Sort key for 姓氏笔画 order: strokes of the surname, then of each given-name
    character, then pinyin."""
    surname, given = split_name(name)
    surname_strokes = sum(_strokes(c) for c in surname) if surname else 999
    return surname_strokes, tuple(_strokes(c) for c in given), pinyin_key(name)


def _strokes(char: str) -> int:
    from strokes import strokes as stroke_count  # imported when first needed, as pypinyin

    count = stroke_count(char)
    return count if isinstance(count, int) and count > 0 else 999


def name_sort_key(order: str) -> Callable[[str], tuple[Any, ...]]:
    return stroke_key if order == "strokes" else pinyin_key


def surname_of(name: str) -> str:
    """The surname of a name, compound surnames whole (``欧阳``); for a name without a Chinese
    surname, its first character."""
    surname, _given = split_name(name)
    return surname or name.strip()[:1]


def surname_key(name: str, order: str) -> tuple[Any, ...]:
    """Sort key that keeps the people of one surname together: the surname (by its strokes
    then its reading with ``order == "strokes"``, else by its reading), then the whole name in
    that order."""
    surname = surname_of(name)
    reading = name_pinyin(name)[: len(surname)] if split_name(name)[0] else text_pinyin(surname)
    by_name = name_sort_key(order)(name)
    if order == "strokes":
        return surname_strokes(surname), reading, surname, by_name
    return reading, surname, by_name


def surname_strokes(surname: str) -> int:
    return sum(_strokes(c) for c in surname)


def surname_initial(name: str, order: str) -> str | int:
    """Where a name is filed in an index by surname: the surname's stroke count with
    ``order == "strokes"``, else the first letter of its reading (``#`` for anything else)."""
    surname = surname_of(name)
    if order == "strokes":
        count = surname_strokes(surname)
        return count if count < 999 else "#"
    reading = surname_key(name, order)[0]
    letter = reading[0][:1].upper() if reading else ""
    return letter if "A" <= letter <= "Z" else "#"


MAX_DERIVED_SLUG = 60  # characters of a slug made from pinyin


def slugify_syllables(parts: tuple[str, ...], max_parts: int = 0) -> str:
    words: list[str] = []
    for part in parts:
        ascii_part = unicodedata.normalize("NFKD", part).encode("ascii", "ignore").decode()
        for word in _NON_SLUG.split(ascii_part.lower()):
            if word:
                words.append(word)
    if max_parts:
        words = words[:max_parts]
    slug = "-".join(words)
    # a derived slug is a folder name: cut at a word so it stays far below 255 bytes
    while len(slug) > MAX_DERIVED_SLUG and "-" in slug:
        slug = slug.rpartition("-")[0]
    return slug[:MAX_DERIVED_SLUG]


def name_slug(name: str) -> str:
    """``王进喜`` -> ``wang-jin-xi``; ``仇小明`` -> ``qiu-xiao-ming``."""
    return slugify_syllables(name_pinyin(name))


TITLE_SEPARATORS = ("——", "--", "：", ":", "｜", "|")
PHRASE_SEPARATORS = re.compile(r"[\s，,、；;。！？!?“”\"《》]+")


def title_slug(title: str, max_syllables: int = 10) -> str:
    """A short slug for a long title: the main title before a subtitle separator; if that is
    still long, its first phrase; at most ``max_syllables`` syllables (never half a one). The
    length of a Chinese title is its characters; that of a title without a Han character,
    its words (``Digital Transformation 2025`` is three, and one phrase)."""
    main = title.strip()
    size = len if _HAN.search(main) else _word_count
    for sep in TITLE_SEPARATORS:
        head = main.split(sep, 1)[0].strip()
        if size(head) >= 4:
            main = head
    if size(main) > max_syllables:
        first = next((p for p in PHRASE_SEPARATORS.split(main) if p), main)
        if size(first) >= 4:
            main = first
    return slugify_syllables(text_pinyin(main), max_parts=max_syllables)


_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+")


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def truncate(text: str, length: int) -> str:
    """Cut text to at most ``length`` characters (Chinese has no spaces between words): end at
    the last sentence end within the limit when there is one in its second half, else add '…'."""
    text = " ".join(text.split())
    if len(text) <= length:
        return text
    cut = text[:length]
    end = max(cut.rfind(mark) for mark in _SENTENCE_END)
    if end >= length // 2:
        return cut[: end + 1]
    return cut.rstrip("，、,；;：: ") + "…"
