"""The settings of one site, read from site.yaml: each setting declared once, with its checker
and its documentation (see ``fields.front``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.base.config import DEFAULT_LANGUAGE, LANGUAGES
from generator.content import fields as f
from generator.content.fields import front

NAME_ORDERS = ("pinyin", "strokes")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The settings of one site, read from site.yaml."""

    title: str = field(default="创先争优先进典型展示", metadata=front(f.text, doc="site title"))
    subtitle: str = field(default="", metadata=front(f.text, doc="shown under the title"))
    campaign: str = field(default="创先争优", metadata=front(f.text, doc="campaign name"))
    language: str = field(
        default=DEFAULT_LANGUAGE,
        metadata=front(
            f.choice(LANGUAGES),
            type_doc=" or ".join(f"`{lang}`" for lang in LANGUAGES),
            doc="language of the site and of the build's messages",
        ),
    )
    page_size: int = field(default=12, metadata=front(f.integer, doc="items per page of the lists"))
    current_year: int = field(
        default=0,
        metadata=front(
            f.year,
            doc="default: the newest year with content. The year of the home page's honour "
            "roll; pledge items still planned or in progress after their pledge's year are "
            "marked overdue relative to it",
        ),
    )
    name_order: str = field(
        default="pinyin",
        metadata=front(
            f.choice(NAME_ORDERS),
            type_doc=" or ".join(f"`{order}`" for order in NAME_ORDERS),
            doc="order of names in lists: pinyin of the name (surname read as a surname), or "
            "surname stroke count (姓氏笔画), then pinyin",
        ),
    )
    # the official order of honours on the honour roll
    honours: tuple[str, ...] = field(
        default=(),
        metadata=front(
            f.text_list,
            doc="the official order of honours on the honour rolls, e.g. "
            "`[劳动模范, 先进工作者, 技术标兵]`; honours not listed follow, most held first",
        ),
    )
    pledge_unit_kinds: tuple[str, ...] = field(
        default=("branch",),
        metadata=front(
            f.text_list,
            doc="the kinds of unit (`kind` in units.yaml) a pledge may be filed for; a unit "
            "without a kind is accepted",
        ),
    )
    theme: str = field(
        default="default",
        metadata=front(f.theme_name, doc="theme name, or a folder inside the site"),
    )
    base_url: str = field(
        default="",
        metadata=front(
            f.web_address,
            doc="an http(s) address or a path from the server's root; absolute URLs in "
            "`feed.xml` and `sitemap.xml`, and the root folder of "
            "`404.html` when a server answers a missing path with it (see docs/deploy.md); "
            "pages always link relatively",
        ),
    )
    summary_length: int = field(
        default=120, metadata=front(f.integer, doc="characters of an automatic summary")
    )
    feed_size: int = field(default=30, metadata=front(f.integer, doc="entries in the feed"))
    photo_max_size: int = field(
        default=2000,
        metadata=front(
            f.integer,
            doc="the long side, in pixels, of photos and images as published and put in "
            "compilations: larger ones are scaled down; every published photo is turned "
            "upright and loses its EXIF data (camera, time, GPS position); at least 480",
        ),
    )
