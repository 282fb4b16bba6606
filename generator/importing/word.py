"""A Word document (.docx) to Markdown with mammoth, its pictures taken out, and the front
matter values its text gives (``infer``).

Headings become ``##`` headings (the document's title is taken out of the body: it is the
name or the title), paragraphs, lists, tables, bold and italics carry over, footnotes become
Markdown footnotes, and every picture becomes an ``Image`` whose place in the body is the
token ``IMAGE_TOKEN`` until the command gives it a file name.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mammoth
import markdownify
from PIL import Image as PILImage

from generator.importing import docxfile
from generator.importing.problems import Note, Refused

IMAGE_TOKEN = "imported-image-{number}"
IMAGE_LINK = re.compile(r"!\[(?P<alt>[^\]\n]*)\]\(imported-image-(?P<number>\d+)\)")
# Word's built-in styles (as English and Chinese Word name them) and what they become
STYLE_MAP = "\n".join(
    f"p[style-name='{name}'] => {tag}:fresh"
    for names, tag in (
        (("Title", "标题"), "h1"),
        (("Subtitle", "副标题"), "p"),
        (("Heading 1", "heading 1", "标题 1"), "h2"),
        (("Heading 2", "heading 2", "标题 2"), "h3"),
        (("Heading 3", "heading 3", "标题 3"), "h4"),
        (("Heading 4", "heading 4", "标题 4"), "h5"),
    )
    for name in names
)
SUFFIXES = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/gif": ".gif",
    "image/bmp": ".bmp",
    "image/webp": ".webp",
    "image/tiff": ".tif",
    "image/x-emf": ".emf",
    "image/x-wmf": ".wmf",
}
WEB_SUFFIXES = (".png", ".jpg", ".gif", ".webp")
# a portrait: taller than wide, but not a strip; large enough to be a photo
PORTRAIT_MIN, PORTRAIT_MAX, PORTRAIT_MIN_WIDTH = 1.1, 2.2, 80
TABLE_OR_LIST = ("#", "!", "|", "-")
HEADING = re.compile(r"^(?P<marks>#{1,6})\s+(?P<text>[^\n]+)$")
ATTACHMENT = re.compile(r"^附\s*件\s*[0-9０-９一二三四五六七八九十]*\s*[:：]?$")
# a paragraph that is a section heading in Chinese documents without heading styles
NUMERAL = "[一二三四五六七八九十]{1,3}"
SECTION = re.compile(rf"^(?:\*\*)?(?P<text>{NUMERAL}、\S[^。；;\n]{{0,30}})(?:\*\*)?$")
SUBSECTION = re.compile(rf"^(?:\*\*)?(?P<text>[（(]{NUMERAL}[）)]\S[^。；;\n]{{0,30}})(?:\*\*)?$")
FOOTNOTE_REF = re.compile(r"\[\\?\[(?P<n>\d+)\\?\]\]\(#(?:footnote|endnote)-(?P<id>-?\d+)\)")
FOOTNOTE_ITEM = re.compile(
    r"^\d+\.\s+(?P<text>.*?)\s*\[↑\]\(#(?:footnote|endnote)-ref-(?P<id>-?\d+)\)\s*$", re.M
)
# mammoth's notes on styles: the styles are not carried over anyway, the text is
IGNORED_MESSAGES = (
    "Unrecognised paragraph style",
    "Unrecognised run style",
    "Paragraph style with ID",
    "Run style with ID",
    "Table style with ID",
)
# the dash of a subtitle "——记第一采油厂张秀兰", as it is also typed: —记, ──记, --记
DASH = r"(?:[—─]{1,2}|[-－]{2})"
# lines under the title that are front matter, not body: a subtitle, the speakers, the date
SUBTITLE = re.compile(rf"^(?:——|{DASH}\s*记)")
DATE = re.compile(
    r"^[（(]?\s*(?P<y>\d{4})\s*(?:年|[-./])\s*(?P<m>\d{1,2})\s*(?:月|[-./])\s*(?P<d>\d{1,2})\s*日?"
    r"\s*[）)]?$"
)
SPEAKERS = re.compile(r"^(?:交流发言人|交流人|发言人|汇报人|报告人)\s*[:：]\s*(?P<names>.+)$")


@dataclass(frozen=True, slots=True)
class Image:
    """A picture of the document, in order of appearance (``number`` from 1)."""

    number: int
    data: bytes
    suffix: str  # ".png", ".jpg" …
    alt: str
    portrait: bool

    @property
    def for_web(self) -> bool:
        return self.suffix in WEB_SUFFIXES


@dataclass(frozen=True, slots=True)
class Converted:
    """A converted document: its title, its first lines (for the front matter values), the
    Markdown of the body, its pictures and what did not convert cleanly."""

    file: str
    title: str
    lines: tuple[str, ...]
    body: str
    images: tuple[Image, ...]
    notes: tuple[Note, ...]


def _portrait(data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
    except Exception:  # any picture Pillow cannot read is simply not a portrait
        return False
    return width >= PORTRAIT_MIN_WIDTH and PORTRAIT_MIN <= height / width <= PORTRAIT_MAX


def _image_handler(images: list[Image]) -> Callable[[Any], dict[str, str]]:
    """mammoth's image handler: keeps each picture and puts its token in its place."""

    def handle(image: Any) -> dict[str, str]:
        with image.open() as stream:
            data = stream.read()
        number = len(images) + 1
        suffix = SUFFIXES.get(str(image.content_type).lower(), ".bin")
        alt = " ".join(str(image.alt_text or "").split())
        images.append(Image(number, data, suffix, alt, _portrait(data)))
        return {"src": IMAGE_TOKEN.format(number=number), "alt": alt}

    return handle


def _markdown(html: str) -> str:
    text = markdownify.markdownify(
        html,
        heading_style="ATX",
        bullets="-",
        strong_em_symbol="*",
        table_infer_header=True,
        escape_misc=False,
    )
    return str(text)


def _headings(blocks: list[str]) -> list[str]:
    """Paragraphs written as numbered section titles (一、… and （一）…) become headings."""
    shaped = []
    for block in blocks:
        section, subsection = SECTION.match(block), SUBSECTION.match(block)
        if section:
            block = "## " + section.group("text")
        elif subsection:
            block = "### " + subsection.group("text")
        shaped.append(block)
    return shaped


def _levels(blocks: list[str]) -> list[str]:
    """Headings moved up so that the highest in the body is ``##`` (a document whose title
    was its first heading numbers its sections one level lower)."""
    levels = [len(m["marks"]) for b in blocks if (m := HEADING.match(b))]
    shift = min(levels, default=2) - 2
    if shift <= 0:
        return blocks
    return [
        "#" * (len(m["marks"]) - shift) + " " + m["text"] if (m := HEADING.match(b)) else b
        for b in blocks
    ]


def _footnotes(body: str) -> str:
    """mammoth's footnote links and end list as Markdown footnotes (``[^1]``)."""
    body = FOOTNOTE_ITEM.sub(lambda m: f"[^{m.group('id')}]: {m.group('text')}", body)
    return FOOTNOTE_REF.sub(lambda m: f"[^{m.group('id')}]", body)


def _split_title(blocks: list[str]) -> tuple[str, list[str]]:
    """The document's title (a first ``#`` heading, else a short first paragraph) and the
    blocks after it; an attachment number above the title ("附件2") is dropped."""
    while blocks and ATTACHMENT.match(_plain(blocks[0])):
        blocks = blocks[1:]
    if not blocks:
        return "", blocks
    first = blocks[0]
    heading = HEADING.match(first)
    if heading:  # the title as Word's title style, or as its first heading
        return heading["text"].strip(), blocks[1:]
    plain = first.strip("*").strip()
    short = len(plain) <= 40 and "\n" not in plain
    if short and not plain.endswith(("。", "！", "；")) and not plain.startswith(TABLE_OR_LIST):
        return plain, blocks[1:]
    return "", blocks


def _front_line(block: str) -> bool:
    """A line under the title that goes into the front matter: subtitle, speakers, date."""
    plain = _plain(block)
    return bool(SUBTITLE.match(plain) or SPEAKERS.match(plain) or DATE.match(plain))


def _plain(block: str) -> str:
    return re.sub(r"[*#>]+", "", block).strip()


def convert(data: bytes, name: str) -> Converted:
    """Convert one Word document; ``Refused`` when it cannot be read."""
    docxfile.check(data, name)
    notes = docxfile.losses(data, name)
    images: list[Image] = []
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            style_map=STYLE_MAP,
            convert_image=mammoth.images.img_element(_image_handler(images)),
        )
    except Exception:  # mammoth raises many kinds of error on a damaged file
        raise Refused("import-word-damaged", file=name) from None
    notes.extend(
        Note("import-word-converter", {"file": name, "text": str(message.message)})
        for message in result.messages
        if not str(message.message).startswith(IGNORED_MESSAGES)
    )
    notes.extend(
        Note(
            "import-word-image-format",
            {"file": name, "number": image.number, "suffix": image.suffix.lstrip(".")},
        )
        for image in images
        if not image.for_web
    )
    blocks = [b.strip() for b in re.split(r"\n{2,}", _markdown(str(result.value))) if b.strip()]
    title, rest = _split_title(blocks)
    lines = tuple(_plain(block) for block in rest[:12])
    kept = [block for number, block in enumerate(rest) if not (number < 4 and _front_line(block))]
    body = _footnotes("\n\n".join(_levels(_headings(kept))))
    if not title and not body.strip():
        raise Refused("import-word-no-text", file=name)
    return Converted(name, title, lines, body.strip() + "\n", tuple(images), tuple(notes))
