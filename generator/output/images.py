"""Profile photos resized for lists and detail pages, and every published photo or image made
safe to publish, cached between builds by content hash.

Each photo becomes JPEGs ``WIDTHS`` wide (never enlarged), EXIF orientation applied, EXIF and
other metadata left out (the colour profile is kept so colours stay right), same bytes for the
same input. With a build cache they are kept in its folder (``<cache>/images/``) under the hash
of the original's bytes and of the recipe, so a second build reads them instead of resizing
again; without one (``--no-cache``) they are made in a temporary folder outside the source that
lives as long as the ``PhotoSet``. Originals are only read, never changed, and nothing is
written into the source folder.

A JPEG, PNG or WebP file the site publishes (a photo next to a story, an image in ``static/``)
is published as it is only when it is at most ``photo_max_size`` (site.yaml) on its long side
and carries no metadata; otherwise a copy scaled down to that size, turned upright by its EXIF
orientation, without EXIF (GPS included), XMP or comments is published at the same address
(``published``), and compilations embed the same (``for_print``).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import PIL
from PIL import Image, ImageOps

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.base.errors import Diagnostic
from generator.output import writer
from generator.site.model import Profile, Site

WIDTHS = (240, 480)  # card in a list, photo on the detail page (and 2x for the cards)
QUALITY = 82
MAX_PIXELS = 60_000_000  # a photo of more pixels is not resized (a phone makes 12 to 50 million)
CACHE_FOLDER = "images"  # inside the build's cache folder
OUTPUT_DIR = "photos"  # folder of the output the derivatives are copied to
RECIPE = f"jpeg-q{QUALITY}-w{'-'.join(map(str, WIDTHS))}-exif-transpose-pillow{PIL.__version__}"
# photos and images published as files (and embedded in compilations): at most the site's
# ``photo_max_size`` on the long side, EXIF orientation applied, no metadata but the colour
# profile; files of other types are published as they are
PUBLISHED_FORMATS = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}
ORIGINAL_QUALITY = 88
ORIGINAL_RECIPE = f"original-q{ORIGINAL_QUALITY}-exif-transpose-pillow{PIL.__version__}"
# what an image file may say about itself and still be published as it is: how to decode and
# show it, nothing about the camera, the place or the author
HARMLESS_INFO = frozenset(
    {
        "jfif",
        "jfif_version",
        "jfif_unit",
        "jfif_density",
        "dpi",
        "icc_profile",
        "adobe",
        "adobe_transform",
        "progressive",
        "progression",
        "gamma",
        "transparency",
        "srgb",
        "chromaticity",
        "aspect",
        "loop",
        "background",
        "duration",
        "timestamp",
        "interlace",
    }
)


@dataclass(frozen=True, slots=True)
class Variant:
    path: str  # output path, relative to the output root
    width: int
    height: int


@dataclass(frozen=True, slots=True, weakref_slot=True)
class PhotoSet:
    """What the build copies and what the templates show."""

    files: Mapping[str, Path] = field(default_factory=dict)  # output path -> cached file
    variants: Mapping[str, tuple[Variant, ...]] = field(default_factory=dict)  # source -> sizes
    # source path -> the file published in its place (scaled down, metadata removed)
    originals: Mapping[str, Path] = field(default_factory=dict)
    # the temporary folder holding ``files`` when there is no cache; removed with this object
    scratch: Path | None = field(default=None, compare=False, repr=False)

    def copies(self) -> list[tuple[str, Path]]:
        """(output path, file) pairs for ``StagedOutput.copy_all``, in a fixed order."""
        return sorted(self.files.items())


@dataclass(frozen=True, slots=True)
class Failure:
    source: str  # the photo, relative to the site source
    reason: str
    code: str = "photo-unreadable"  # the catalog message


def _widths(original: int) -> list[int]:
    return sorted({min(w, original) for w in WIDTHS})


def _as_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


class TooLarge(ValueError):
    """A photo of more pixels than ``MAX_PIXELS`` (decoding it could exhaust memory)."""


def _open(data: bytes) -> Image.Image:
    """The photo, its size checked from the header before any pixel is decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # the pixel count is the first number
        raise TooLarge(next(iter(re.findall(r"\d+", str(exc))), "?")) from exc
    if opened.width * opened.height > MAX_PIXELS:
        opened.close()
        raise TooLarge(f"{opened.width}×{opened.height}")
    return opened


def resize(data: bytes) -> list[tuple[int, int, bytes]]:
    """The JPEG derivatives of one photo: (width, height, bytes), narrowest first."""
    with _open(data) as opened:
        icc = opened.info.get("icc_profile")
        upright = ImageOps.exif_transpose(opened)
        image = _as_rgb(upright)
        out = []
        for width in _widths(image.width):
            height = max(1, round(image.height * width / image.width))
            sized = (
                image
                if (width, height) == image.size
                else image.resize((width, height), Image.Resampling.LANCZOS)
            )
            buffer = io.BytesIO()
            options: dict[str, object] = {"quality": QUALITY, "optimize": True}
            if icc:
                options["icc_profile"] = icc
            sized.save(buffer, "JPEG", **options)
            out.append((width, height, buffer.getvalue()))
        return out


def _has_metadata(image: Image.Image) -> bool:
    """Whether an image carries EXIF (GPS included), XMP, comments or any other note beyond
    what showing it needs."""
    return bool(image.getexif()) or any(key not in HARMLESS_INFO for key in image.info)


def published(data: bytes, suffix: str, limit: int) -> bytes | None:
    """An image file as the site publishes it: None when it can go as it is (a type not
    re-encoded, at most ``limit`` pixels on the long side and without metadata); else the same
    format again, scaled down to ``limit``, turned upright by its EXIF orientation, with no
    metadata but the colour profile. Raises ``TooLarge`` or Pillow's errors."""
    fmt = PUBLISHED_FORMATS.get(suffix.lower())
    if fmt is None:
        return None
    limit = max(limit, WIDTHS[-1])  # never smaller than the detail page's photo
    with _open(data) as opened:
        if getattr(opened, "n_frames", 1) > 1:  # an animation would lose its frames
            return None
        if max(opened.size) <= limit and not _has_metadata(opened):
            return None
        icc = opened.info.get("icc_profile")
        image = ImageOps.exif_transpose(opened)
        if max(image.size) > limit:
            image.thumbnail((limit, limit), Image.Resampling.LANCZOS)
        image.info = {}
        if fmt == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
            image = _as_rgb(image)
        options: dict[str, object] = {"optimize": True}
        if fmt != "PNG":
            options["quality"] = ORIGINAL_QUALITY
        if icc:
            options["icc_profile"] = icc
        buffer = io.BytesIO()
        image.save(buffer, fmt, **options)
        return buffer.getvalue()


def for_print(path: Path, limit: int) -> bytes:
    """The bytes of an image as published (see ``published``): the file's own bytes when it
    can go as it is or cannot be read as an image."""
    data = path.read_bytes()
    try:
        made = published(data, path.suffix, limit)
    except (TooLarge, OSError, ValueError, Image.DecompressionBombError):
        return data
    return data if made is None else made


def derive_originals(
    digests: Mapping[str, str], source_root: Path, folder: Path, limit: int
) -> dict[str, Path]:
    """The images among ``digests`` (source path -> SHA-256 of its content) that are not
    published as they are, each made once into ``folder`` (see ``published``): source path ->
    the file to publish. A file that cannot be read as an image is published as it is."""
    out: dict[str, Path] = {}
    for rel, digest in sorted(digests.items()):
        suffix = Path(rel).suffix.lower()
        if suffix not in PUBLISHED_FORMATS:
            continue
        recipe = f"{ORIGINAL_RECIPE}-{limit}\0{digest}"
        key = hashlib.sha256(recipe.encode()).hexdigest()[:24]
        target, same = folder / f"{key}-original{suffix}", folder / f"{key}.same"
        if target.is_file():
            out[rel] = target
            continue
        if same.is_file():
            continue
        try:
            made = published((source_root / rel).read_bytes(), suffix, limit)
        except (TooLarge, OSError, ValueError, Image.DecompressionBombError):
            continue
        if made is None:
            writer.write_atomic(same, b"")
        else:
            writer.write_atomic(target, made)
            out[rel] = target
    return out


def _cached(cache: Path, key: str) -> list[tuple[int, int, Path]] | None:
    """The derivatives of ``key`` if the cache has all of them."""
    try:
        sizes = json.loads((cache / f"{key}.json").read_text(encoding="utf-8"))
        found = [(int(w), int(h), cache / f"{key}-{int(w)}.jpg") for w, h in sizes]
    except (OSError, ValueError, TypeError):
        return None
    return found if found and all(p.is_file() for _, _, p in found) else None


def derive(
    sources: Iterable[str],
    source_root: Path,
    cache: Path | None,
    originals: Mapping[str, str] | None = None,
    limit: int = 0,
    language: str = DEFAULT_LANGUAGE,
) -> tuple[PhotoSet, list[Failure]]:
    """Resize (or take from the ``cache`` folder) every photo in ``sources`` (paths relative to
    ``source_root``), and make the published form of every image in ``originals`` (path ->
    content digest; see ``derive_originals``, at most ``limit`` pixels on the long side).
    Returns the files to copy and the sizes per photo; a photo that cannot be read is reported
    as a Failure and left out (pages then show the original). Without a cache folder the
    photos are resized into a temporary folder that the PhotoSet owns."""
    scratch = None
    if cache is None:
        scratch = cache = Path(tempfile.mkdtemp(prefix="showcase-photos-"))
    published_files = derive_originals(originals or {}, source_root, cache, limit)
    files: dict[str, Path] = {}
    variants: dict[str, tuple[Variant, ...]] = {}
    failures: list[Failure] = []
    for source in sorted(set(sources)):
        try:
            data = (source_root / source).read_bytes()
        except OSError as exc:
            failures.append(Failure(source, messages.os_reason(language, exc)))
            continue
        key = hashlib.sha256(RECIPE.encode() + b"\0" + data).hexdigest()[:24]
        found = _cached(cache, key)
        if found is None:
            try:
                made = resize(data)
            except TooLarge as exc:
                failures.append(Failure(source, str(exc), "photo-too-large"))
                continue
            except (OSError, ValueError, Image.DecompressionBombError) as exc:
                failures.append(Failure(source, str(exc) or type(exc).__name__))
                continue
            found = []
            for width, height, jpeg in made:
                target = cache / f"{key}-{width}.jpg"
                writer.write_atomic(target, jpeg)
                found.append((width, height, target))
            sizes = json.dumps([[w, h] for w, h, _ in found])
            writer.write_atomic(cache / f"{key}.json", sizes.encode("utf-8"))
        entries = []
        for width, height, path in found:
            out = f"{OUTPUT_DIR}/{key}-{width}.jpg"
            files[out] = path
            entries.append(Variant(out, width, height))
        variants[source] = tuple(entries)
    photos = PhotoSet(files, variants, published_files, scratch)
    if scratch is not None:
        # the folder goes when the PhotoSet is garbage-collected, or at the latest at exit
        weakref.finalize(photos, shutil.rmtree, scratch, ignore_errors=True)
    return photos, failures


def derive_for_site(
    site: Site,
    source_root: Path,
    cache_dir: Path | None = None,
    originals: Mapping[str, str] | None = None,
) -> tuple[PhotoSet, list[Diagnostic]]:
    """The photos of every profile, and the published form of the images among ``originals``
    (source path -> content digest), kept in ``<cache_dir>/images/`` between builds (made
    again each time without a cache folder); unreadable photos become warnings at the
    profile's ``photo`` line."""
    users: dict[str, list[Profile]] = {}
    for profile in site.profiles:
        if profile.photo is not None:
            users.setdefault(profile.photo.source, []).append(profile)
    cache = cache_dir / CACHE_FOLDER if cache_dir is not None else None
    limit = site.config.photo_max_size
    photos, failures = derive(users, source_root, cache, originals, limit, site.config.language)
    problems = [
        Diagnostic.warning(
            p.key,
            p.lines.get("photo", 1),
            failure.code,
            "photo",
            photo=failure.source,
            reason=failure.reason,
            limit=MAX_PIXELS // 1_000_000,
        )
        for failure in failures
        for p in users[failure.source]
    ]
    return photos, problems
