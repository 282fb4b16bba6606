"""Profile photos resized with Pillow (output/images.py): sizes, EXIF orientation, metadata
stripped, same bytes every time, cached by content hash, originals untouched, and the pages'
srcset, width, height and lazy loading."""

from __future__ import annotations

import base64
import gc
import hashlib
import io
import os
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image

from generator.base.config import BuildOptions
from generator.build import analyse, build
from generator.cli.compile import compile_year
from generator.output import images
from tests.conftest import EXAMPLE, SiteBuilder, profile, write_site
from tests.test_cli import run


def jpeg(width: int, height: int, orientation: int = 1, colour: str = "#a4161a") -> bytes:
    image = Image.new("RGB", (width, height), colour)
    image.paste(Image.new("RGB", (width // 4, height // 4), "#f3d98b"), (0, 0))
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "TestCam"  # Make: metadata that must not reach the output
    exif[0x8825] = {1: "N"}  # a GPS block
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def write(root: Path, rel: str, data: bytes) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_photos_are_resized_to_list_and_detail_widths(tmp_path: Path) -> None:
    write(tmp_path, "a.jpg", jpeg(1200, 1600))
    photos, failures = images.derive(["a.jpg"], tmp_path, tmp_path / "cache")
    assert failures == []
    sizes = [(v.width, v.height) for v in photos.variants["a.jpg"]]
    assert sizes == [(240, 320), (480, 640)]
    for variant in photos.variants["a.jpg"]:
        assert variant.path.startswith("photos/") and variant.path.endswith(f"-{variant.width}.jpg")
        with Image.open(photos.files[variant.path]) as image:
            assert image.format == "JPEG"
            assert image.size == (variant.width, variant.height)
            assert not image.getexif()  # no camera, GPS or orientation data
            assert "exif" not in image.info and "xmp" not in image.info


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    write(tmp_path, "sideways.jpg", jpeg(1600, 1200, orientation=6))  # stored landscape
    photos, _ = images.derive(["sideways.jpg"], tmp_path, tmp_path / "cache")
    assert [(v.width, v.height) for v in photos.variants["sideways.jpg"]] == [
        (240, 320),
        (480, 640),
    ]


def test_small_photos_are_never_enlarged(tmp_path: Path) -> None:
    write(tmp_path, "small.jpg", jpeg(200, 300))
    write(tmp_path, "mid.jpg", jpeg(300, 400))
    photos, _ = images.derive(["small.jpg", "mid.jpg"], tmp_path, tmp_path / "cache")
    assert [(v.width, v.height) for v in photos.variants["small.jpg"]] == [(200, 300)]
    assert [v.width for v in photos.variants["mid.jpg"]] == [240, 300]


def test_transparent_png_gets_a_white_background(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (300, 400), (0, 0, 0, 0)).save(buffer, "PNG")
    write(tmp_path, "p.png", buffer.getvalue())
    photos, failures = images.derive(["p.png"], tmp_path, tmp_path / "cache")
    assert failures == []
    with Image.open(photos.files[photos.variants["p.png"][0].path]) as image:
        red, green, blue = image.convert("RGB").getpixel((10, 10))  # type: ignore[misc]
        assert min(red, green, blue) > 245


def test_same_photo_gives_the_same_bytes_and_the_original_is_untouched(tmp_path: Path) -> None:
    original = write(tmp_path, "a.jpg", jpeg(900, 1200))
    before = original.read_bytes()
    first, _ = images.derive(["a.jpg"], tmp_path, tmp_path / "one")
    second, _ = images.derive(["a.jpg"], tmp_path, tmp_path / "two")
    assert first.variants == second.variants
    for rel in first.files:
        assert first.files[rel].read_bytes() == second.files[rel].read_bytes()
    assert original.read_bytes() == before


def test_cached_photos_are_not_resized_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, "a.jpg", jpeg(900, 1200))
    cache = tmp_path / "cache"
    first, _ = images.derive(["a.jpg"], tmp_path, cache)

    def refuse(data: bytes) -> list[tuple[int, int, bytes]]:
        raise AssertionError("resized although cached")

    monkeypatch.setattr(images, "resize", refuse)
    second, failures = images.derive(["a.jpg"], tmp_path, cache)
    assert failures == [] and second == first
    # a changed photo gets new files (new hash), so pages never show a stale copy
    monkeypatch.undo()
    write(tmp_path, "a.jpg", jpeg(900, 1200, colour="#123456"))
    third, _ = images.derive(["a.jpg"], tmp_path, cache)
    assert set(third.files).isdisjoint(first.files)


def test_an_unreadable_photo_is_a_warning_at_the_photo_line(make_site: SiteBuilder) -> None:
    report, out = make_site(
        {
            "profiles/2025/wang.md": profile(extra="photo: wang.jpg\n"),
            "profiles/2025/wang.jpg": "this is not a picture",
        }
    )
    assert report.ok
    [warning] = [d for d in report.diagnostics if d.code == "photo-unreadable"]
    assert (warning.path, warning.line, warning.field) == ("profiles/2025/wang.md", 6, "photo")
    page = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert 'src="../wang.jpg"' in page  # the original is still shown


def test_pages_use_the_resized_photos(make_site: SiteBuilder, tmp_path: Path) -> None:
    photo = jpeg(1200, 1600)
    source = tmp_path / "src"
    write(source, "profiles/2025/wang.jpg", photo)
    report, out = make_site({"profiles/2025/wang.md": profile(extra="photo: wang.jpg\n")})
    assert report.ok, report.diagnostics
    key = hashlib.sha256(images.RECIPE.encode() + b"\0" + photo).hexdigest()[:24]
    assert not (source / ".showcase-cache").exists()  # a build without cache keeps none
    assert (out / f"photos/{key}-240.jpg").is_file() and (out / f"photos/{key}-480.jpg").is_file()
    assert (source / "profiles/2025/wang.jpg").read_bytes() == photo  # the original untouched
    with Image.open(out / "profiles/2025/wang.jpg") as published:  # published without EXIF
        assert published.size == (1200, 1600) and not published.getexif()
    assert not (out / ".showcase-cache").exists()
    card = re.search(
        r'<img class="photo photo-card"[^>]*>', (out / "profiles/index.html").read_text()
    )
    assert card is not None
    tag = card.group()
    assert f'src="../photos/{key}-240.jpg"' in tag
    assert f'srcset="../photos/{key}-240.jpg 240w, ../photos/{key}-480.jpg 480w"' in tag
    assert 'width="240" height="320"' in tag and 'loading="lazy"' in tag
    assert 'alt="王进喜，采油一队党支部"' in tag
    detail = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    large = re.search(r'<img class="photo photo-large"[^>]*>', detail)
    assert large is not None and 'width="480" height="640"' in large.group()


def test_a_photo_replaced_under_its_name_makes_only_the_pages_that_show_it_again(
    tmp_path: Path,
) -> None:
    source = write_site(
        tmp_path / "src",
        {
            "profiles/2025/wang.md": profile(extra="photo: wang.jpg\n"),
            "profiles/2024/li.md": profile(
                name="李华", unit="other-branch", year=2024, extra="photo: li.jpg\n"
            ),
        },
    )
    write(source, "profiles/2025/wang.jpg", jpeg(900, 1200))
    write(source, "profiles/2024/li.jpg", jpeg(900, 1200))
    out, cache = tmp_path / "out", tmp_path / "cache"
    first = build(BuildOptions(source=source, output=out, cache_dir=cache))
    assert first.ok, first.diagnostics
    other = out / "profiles/2024/li-hua/index.html"
    kept = other.stat().st_ino
    # other bytes of the same length: the item (whose digest holds its photo file's size) is
    # unchanged, only the photo's resized files are new
    old_photo = (source / "profiles/2025/wang.jpg").read_bytes()
    new_photo = old_photo.replace(b"TestCam", b"TestCan")
    assert new_photo != old_photo and len(new_photo) == len(old_photo)
    write(source, "profiles/2025/wang.jpg", new_photo)
    again = build(BuildOptions(source=source, output=out, cache_dir=cache))
    assert again.ok, again.diagnostics
    key = hashlib.sha256(images.RECIPE.encode() + b"\0" + new_photo).hexdigest()[:24]
    detail = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert f"photos/{key}-480.jpg" in detail
    assert f"photos/{key}-240.jpg" in (out / "profiles/index.html").read_text(encoding="utf-8")
    # the pages that do not show the photo were kept, not made again
    assert 0 < again.pages < first.pages // 2, (again.pages, first.pages)
    assert other.stat().st_ino == kept
    clean = tmp_path / "clean"
    build(BuildOptions(source=source, output=clean, cache_dir=None))
    assert snapshot(out) == snapshot(clean)


def test_a_profile_without_photo_gets_a_placeholder(make_site: SiteBuilder) -> None:
    report, out = make_site({"profiles/2025/wang.md": profile()})
    assert report.ok
    detail = (out / "profiles/2025/wang-jin-xi/index.html").read_text(encoding="utf-8")
    assert (
        '<span class="photo photo-large photo-placeholder" role="img" aria-label="王进喜">王</span>'
        in detail
    )


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every folder (None) and file (its bytes) under ``root``, by relative path."""
    found: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        folder = Path(dirpath)
        for name in dirnames:
            found[(folder / name).relative_to(root).as_posix() + "/"] = None
        for name in filenames:
            found[(folder / name).relative_to(root).as_posix()] = (folder / name).read_bytes()
    return found


def test_without_cache_photos_are_resized_outside_the_source(tmp_path: Path) -> None:
    source = tmp_path / "src"
    write(source, "a.jpg", jpeg(900, 1200))
    before = snapshot(source)
    photos, failures = images.derive(["a.jpg"], source, None)
    assert failures == [] and photos.files
    assert snapshot(source) == before
    folders = {path.parent for path in photos.files.values()}
    assert len(folders) == 1
    [folder] = folders
    assert source not in folder.parents and all(p.is_file() for p in photos.files.values())
    # the same bytes as a cached resize
    shutil.copy(source / "a.jpg", tmp_path / "a.jpg")
    cached, _ = images.derive(["a.jpg"], tmp_path, tmp_path / "cache")
    assert cached.variants == photos.variants
    assert all(
        photos.files[rel].read_bytes() == cached.files[rel].read_bytes() for rel in cached.files
    )
    del photos
    gc.collect()
    assert not folder.exists()  # the temporary folder goes with the PhotoSet


def test_photos_are_kept_in_the_build_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_site(
        tmp_path / "src", {"profiles/2025/wang.md": profile(extra="photo: wang.jpg\n")}
    )
    write(source, "profiles/2025/wang.jpg", jpeg(1200, 1600))
    site = analyse(source).site
    cache = tmp_path / "cache"
    first, problems = images.derive_for_site(site, source, cache)
    assert problems == [] and first.scratch is None
    assert {p.parent for p in first.files.values()} == {cache / images.CACHE_FOLDER}

    def refuse(data: bytes) -> list[tuple[int, int, bytes]]:
        raise AssertionError("resized although cached")

    monkeypatch.setattr(images, "resize", refuse)
    second, _ = images.derive_for_site(site, source, cache)
    assert second == first


def test_a_build_without_cache_leaves_the_source_as_it_was(tmp_path: Path) -> None:
    source = tmp_path / "site_content"
    shutil.copytree(EXAMPLE, source)
    assert any(rel.endswith(".jpg") for rel in snapshot(source))  # photos to resize
    before = snapshot(source)
    result = run(["build", "--no-cache", "-o", "public"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "public/photos").is_dir()
    assert snapshot(source) == before
    report = build(BuildOptions(source=source, output=tmp_path / "again", cache_dir=None))
    assert report.ok, report.diagnostics
    assert snapshot(source) == before
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "public")


# ---------------------------------------------------------------------------------------------
# photos and images published as files, and in compilations


def _published(out: Path, rel: str) -> Image.Image:
    image = Image.open(out / rel)
    image.load()
    return image


def test_published_photos_are_scaled_down_upright_and_without_exif(
    make_site: SiteBuilder,
) -> None:
    files = {
        "profiles/2025/a.md": profile(body="![现场](scene.jpg)\n\n![小图](small.jpg)"),
    }
    _report, out = make_site(files)  # the site first, then its binary files
    source = out.parent / "src"
    write(source, "profiles/2025/scene.jpg", jpeg(3000, 2000, orientation=6))
    write(source, "profiles/2025/small.jpg", jpeg(300, 200))
    clean = io.BytesIO()
    Image.new("RGB", (800, 600), "#336699").save(clean, "JPEG", quality=90)
    write(source, "static/clean.jpg", clean.getvalue())
    report = build(BuildOptions(source=source, output=out, cache_dir=out.parent / "cache"))
    assert report.ok, report.diagnostics
    scene = _published(out, "profiles/2025/scene.jpg")
    assert scene.size == (1333, 2000)  # upright, the long side at the default 2,000
    assert not scene.getexif() and "exif" not in scene.info
    small = _published(out, "profiles/2025/small.jpg")
    assert small.size == (300, 200) and not small.getexif()  # small, but its EXIF removed
    # an image without metadata and within the size is published byte for byte
    assert (out / "static/clean.jpg").read_bytes() == clean.getvalue()


def test_the_size_of_published_photos_is_a_setting(make_site: SiteBuilder) -> None:
    _report, out = make_site(
        {"profiles/2025/a.md": profile(body="![现场](scene.jpg)")},
        site_yaml="title: 测试\nphoto_max_size: 800\n",
    )
    source = out.parent / "src"
    write(source, "profiles/2025/scene.jpg", jpeg(3000, 2000))
    assert build(BuildOptions(source=source, output=out, cache_dir=None)).ok
    assert _published(out, "profiles/2025/scene.jpg").size == (800, 533)
    assert not list(source.rglob(".showcase-cache"))


def test_a_compilation_embeds_photos_scaled_down_and_without_exif(tmp_path: Path) -> None:
    source = write_site(
        tmp_path / "src",
        {"profiles/2025/a.md": profile(extra="photo: a.jpg\n", body="![现场](scene.jpg)")},
    )
    write(source, "profiles/2025/a.jpg", jpeg(2400, 3200))
    write(source, "profiles/2025/scene.jpg", jpeg(4000, 3000, orientation=6))
    compiled = compile_year(source, 2025)
    assert compiled.ok, compiled.diagnostics
    uris = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', compiled.html)
    assert len(uris) == 2
    for uri in uris:
        with Image.open(io.BytesIO(base64.b64decode(uri))) as image:
            assert max(image.size) == 2000
            assert image.height > image.width  # both stand upright
            assert not image.getexif()
