"""The checks of a Word file before it is converted, and what the converter leaves out.

A file is refused, with the reason an editor can act on, when it is an old binary .doc, a
password-protected document, a damaged or cut-off file, or not a Word document at all.
What converts with a loss (text boxes, comments, tracked changes, embedded objects,
footnotes) is found in the document's own XML and reported by paragraph; the text itself is
converted by mammoth.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator

from generator.importing.problems import Note, Refused

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old Office files and encrypted new ones
ENCRYPTED = "EncryptedPackage".encode("utf-16-le")
DOCUMENT = "word/document.xml"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
SHOWN = 20  # characters of a paragraph quoted to find it again
MB = 1024 * 1024
MAX_FILE_MB = 100  # a document larger than this (or whose text unpacks larger) is refused
MAX_TEXT_MB = 50

# what converts with a loss: the element and the catalog code of the note
LOSSES = (
    (f"{W}txbxContent", "import-word-text-box"),
    (f"{W}commentReference", "import-word-comment"),
    (f"{W}ins", "import-word-tracked-change"),
    (f"{W}del", "import-word-tracked-change"),
    (f"{W}object", "import-word-embedded-object"),
    (f"{W}footnoteReference", "import-word-footnote"),
    (f"{W}endnoteReference", "import-word-footnote"),
)
# what other programs write into a file saved with the wrong name
SIGNATURES = (
    (b"{\\rtf", "import-word-rtf"),
    (b"%PDF", "import-word-pdf"),
)


def _kind_of_zip(names: set[str]) -> str:
    """The code of the refusal for a zip that is not a Word document."""
    if any(name.startswith("xl/") for name in names):
        return "import-word-is-excel"
    if any(name.startswith("ppt/") for name in names):
        return "import-word-is-powerpoint"
    return "import-word-not-word"


def check(data: bytes, name: str) -> None:
    """Refuse what mammoth cannot read, with the reason (``Refused``)."""
    if not data:
        raise Refused("import-word-empty", file=name)
    if len(data) > MAX_FILE_MB * MB:
        raise Refused("import-word-too-large", file=name, mb=MAX_FILE_MB)
    if data.startswith(OLE_MAGIC):
        code = "import-word-encrypted" if ENCRYPTED in data else "import-word-old-doc"
        raise Refused(code, file=name)
    for signature, code in SIGNATURES:
        if data.lstrip().startswith(signature):
            raise Refused(code, file=name)
    if not data.startswith(b"PK"):
        raise Refused("import-word-not-word", file=name)
    _check_zip(data, name)


def _check_zip(data: bytes, name: str) -> None:
    """A zip that is a Word document, whole, and not too large once unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if DOCUMENT not in names:
                raise Refused(_kind_of_zip(names), file=name)
            if archive.getinfo(DOCUMENT).file_size > MAX_TEXT_MB * MB:
                raise Refused("import-word-too-large", file=name, mb=MAX_TEXT_MB)
            if archive.testzip() is not None:
                raise Refused("import-word-damaged", file=name)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError, OSError):
        raise Refused("import-word-damaged", file=name) from None


def _text(element: ET.Element) -> str:
    return "".join(node.text or "" for node in element.iter(f"{W}t"))


def _paragraphs(root: ET.Element) -> Iterator[ET.Element]:
    """The paragraphs of the body in reading order, tables included, text boxes not (their
    paragraphs belong to the paragraph that holds the box)."""
    body = root.find(f"{W}body")
    if body is None:
        return
    stack = list(reversed(list(body)))
    while stack:
        element = stack.pop()
        if element.tag == f"{W}p":
            yield element
        elif element.tag != f"{W}txbxContent":
            stack.extend(reversed(list(element)))


def losses(data: bytes, name: str) -> list[Note]:
    """What converts with a loss, one note per paragraph and kind of loss, in order; the
    paragraph is counted from the start of the document and quoted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            root = ET.fromstring(archive.read(DOCUMENT))
    except (zipfile.BadZipFile, KeyError, ET.ParseError):
        raise Refused("import-word-damaged", file=name) from None
    notes: list[Note] = []
    for number, paragraph in enumerate(_paragraphs(root), start=1):
        quoted = _text(paragraph).strip()
        quoted = quoted if len(quoted) <= SHOWN else quoted[: SHOWN - 1] + "…"
        codes = dict.fromkeys(
            code for tag, code in LOSSES if next(paragraph.iter(tag), None) is not None
        )
        notes.extend(
            Note(code, {"file": name, "paragraph": number, "text": quoted}) for code in codes
        )
    return notes
