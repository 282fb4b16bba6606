"""Preview latency of ``showcase serve`` on a generated corpus: prints figures, asserts nothing.

    python3 benchmarks/serve.py --pages 5000 [--edits 3] [--settle SECONDS]
                                [--workdir benchmarks/work]

For one corpus (``tests/vendor/corpus/make_corpus.py``, the copy of ../shared/make_corpus.py,
with ``page_size: 20``) it measures:

- **start, cold**: from starting ``showcase serve`` (no cache, no served folder) to the home
  page served (made on demand while the first build runs);
- **first build, cold**: from the same start until that first build is done (the search
  index served);
- **start, warm**: the same again, with the cache and served folder of the first run;
- **edit -> served**: from saving one profile (a sentence appended) until its detail page,
  fetched over HTTP every 20 ms, shows the sentence; ``--edits`` times, each figure printed;
- **honour -> served**: from changing the first honour in the front matter of the same
  profile until its page shows the new one (the pages are planned again: the profile is in
  other lists of honours now);
- **new story -> served**: from saving a new profile, the newest of the site (written as
  benchmarks/run.py's add-story build writes it), until its detail page is served with its
  name; the lists it joins (the first pages of its unit's, its year's and the home page)
  are made again too, and every later page of those lists.

With ``--hugo``, the same for ``hugo server`` (rendering to memory, its default) on the same
corpus in Hugo's format (written as benchmarks/run.py writes it, with the same profile edited):
start to the home page served, edit -> served, honour -> served and new story -> served.
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAKE_CORPUS = REPO / "tests" / "vendor" / "corpus" / "make_corpus.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fetch(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode("utf-8"))
    except (OSError, urllib.error.URLError, http.client.HTTPException):
        return None  # not served yet, or cut short while the server rewrote the page


def wait_for(url: str, needle: str, timeout: float = 600.0, step: float = 0.02) -> float:
    """Seconds until ``url`` answers with a page containing ``needle``."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        page = fetch(url)
        if page is not None and needle in page:
            return time.perf_counter() - started
        time.sleep(step)
    raise SystemExit(f"timed out waiting for {needle!r} at {url}")


def serve(source: Path, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "generator", "serve", str(source), "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def corpus(workdir: Path, pages: int) -> Path:
    source = workdir / f"serve-{pages}"
    if not (source / "site.yaml").is_file():
        shutil.rmtree(source, ignore_errors=True)
        subprocess.run([sys.executable, str(MAKE_CORPUS), str(source), "--pages", str(pages),
                        "--seed", "1"], check=True, capture_output=True)
        with (source / "site.yaml").open("a", encoding="utf-8") as fh:
            fh.write("page_size: 20\n")
    return source


def first_profile(source: Path) -> tuple[Path, str]:
    """The first profile's file and the address of its page, as the build plans it."""
    sys.path.insert(0, str(REPO))
    from generator.build import analyse

    path = sorted((source / "profiles").rglob("*.md"))[0]
    analysis = analyse(source)
    rel = path.relative_to(source).as_posix()
    item = next(i for i in analysis.site.all_items() if i.key == rel)
    return path, folder_of(analysis.plan.items[item.key])


def timed_start(source: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = serve(source, port)
    wait_for(base, "<html")
    return proc, base, time.perf_counter() - started


def edit_latencies(base: str, page: str, path: Path, edits: int) -> list[float]:
    """Seconds from appending a sentence to ``path`` until ``base + page`` shows it."""
    found = []
    for n in range(edits):
        time.sleep(1.0)
        marker = f"预览测速第{n + 1}句{int(time.time())}"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"\n{marker}。\n")
        found.append(wait_for(base + page, marker))
    return found


def honour_latency(base: str, page: str, path: Path) -> float:
    """Seconds from changing the first honour in the front matter of ``path`` (a profile of
    the corpus: ``honors:`` then one honour a line) until ``base + page`` shows the new one."""
    time.sleep(1.0)
    marker = f"测速荣誉{int(time.time())}"
    head, key, rest = path.read_text(encoding="utf-8").partition("\nhonors:\n")
    if not key:
        raise SystemExit(f"no list of honours in {path}")
    _first, newline, others = rest.partition("\n")
    path.write_text(f'{head}{key}  - "{marker}"{newline}{others}', encoding="utf-8")
    return wait_for(base + page, marker)


def new_story(source: Path, fmt: str) -> tuple[Path, bytes, str]:
    """A new profile as benchmarks/run.py's add-story build adds it, taken away again: its
    path, its bytes and the name its page shows."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import run  # benchmarks/run.py: the story the build benchmark adds

    added = run.add_story(source, fmt)
    text = added.read_bytes()
    added.unlink()
    for line in text.decode("utf-8").split("\n"):
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() in ("name", "title"):
            return added, text, value.strip().strip('"')
    raise SystemExit(f"no name in {added}")


def planned_page(source: Path, path: Path) -> str:
    """The page of the item ``path``, as the build plans it."""
    sys.path.insert(0, str(REPO))
    from generator.build import analyse

    analysis = analyse(source)
    rel = path.relative_to(source).as_posix()
    item = next(i for i in analysis.site.all_items() if i.key == rel)
    return folder_of(str(analysis.plan.items[item.key]))


def folder_of(page: str) -> str:
    """The address a browser asks for a page at: its folder (``…/wang-jin-xi/``)."""
    return page.removesuffix("index.html")


def add_latency(base: str, page: str, story: tuple[Path, bytes, str]) -> float:
    """Seconds from saving the new ``story`` until ``base + page`` shows its name (the last
    edit's rebuild given time to end first); the story is taken away again after."""
    path, text, name = story
    time.sleep(3.0)
    try:
        path.write_bytes(text)
        return wait_for(base + page, name)
    finally:
        path.unlink(missing_ok=True)


def measure_showcase(source: Path, edits: int, settle: float = 0.0) -> dict[str, object]:
    """showcase serve on ``source``: start with no cache, start again warm, the seconds of
    each of ``edits`` edits to the first profile until its page is served changed (the first
    ``settle`` seconds after the warm start: the preview warms up in the background), then
    those of a new story until its page is served."""
    shutil.rmtree(source / ".showcase-cache", ignore_errors=True)
    started = time.perf_counter()
    proc, base, cold = timed_start(source)
    wait_for(base + "search/index.js", "SHOWCASE_SEARCH_DATA", step=0.2)
    built = time.perf_counter() - started
    proc.terminate()
    proc.wait()
    path, page = first_profile(source)
    story = new_story(source, "native")
    story[0].write_bytes(story[1])
    try:
        added_page = planned_page(source, story[0])
    finally:
        story[0].unlink()
    original = path.read_bytes()
    proc, base, warm = timed_start(source)
    try:
        time.sleep(settle)
        found = edit_latencies(base, page, path, edits)
        honour = honour_latency(base, page, path)
        added = add_latency(base, added_page, story)
    finally:
        proc.terminate()
        proc.wait()
        path.write_bytes(original)
    return {
        "start_cold": cold, "built_cold": built, "start_warm": warm, "edits": found,
        "honour": honour, "added": added,
    }


def measure_hugo(corpus: Path, hugo: Path, profile: Path, edits: int) -> dict[str, object]:
    """``hugo server`` (rendering to memory, its default) on ``corpus``: start, and each of
    ``edits`` edits to ``profile`` until its page is served changed."""
    original = profile.read_bytes()
    page = profile.relative_to(corpus / "content").with_suffix("").as_posix() + "/"
    story = new_story(corpus, "hugo")  # written and taken away before the server starts
    added_page = story[0].relative_to(corpus / "content").with_suffix("").as_posix() + "/"
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(hugo), "server", "--port", str(port), "--bind", "127.0.0.1"],
        cwd=corpus, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(base, "<html")
        start = time.perf_counter() - started
        found = edit_latencies(base, page, profile, edits)
        honour = honour_latency(base, page, profile)
        added = add_latency(base, added_page, story)
    finally:
        proc.terminate()
        proc.wait()
        profile.write_bytes(original)
    return {
        "start_cold": start, "built_cold": None, "start_warm": None, "edits": found,
        "honour": honour, "added": added,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--edits", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=REPO / "benchmarks" / "work")
    parser.add_argument("--hugo", action="store_true", help="also measure hugo server")
    parser.add_argument(
        "--settle", type=float, default=0.0, help="seconds to wait after the warm start"
    )
    args = parser.parse_args(argv)
    found = measure_showcase(corpus(args.workdir, args.pages), args.edits, args.settle)
    print(f"documents: {args.pages}")
    print(f"start, cold: {found['start_cold']:.2f} s")
    print(f"first build, cold: {found['built_cold']:.2f} s")
    print(f"start, warm: {found['start_warm']:.2f} s")
    for n, seconds in enumerate(found["edits"]):  # type: ignore[arg-type]
        print(f"edit {n + 1} -> served: {seconds:.2f} s")
    print(f"honour -> served: {found['honour']:.2f} s")
    print(f"new story -> served: {found['added']:.2f} s")
    if args.hugo:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import run  # benchmarks/run.py: its Hugo install and corpus

        run.ensure_venv(["hugo"])
        hugo_corpus = args.workdir / f"serve-hugo-{args.pages}"
        if not (hugo_corpus / "hugo.toml").is_file():
            run.generate_corpus("hugo", hugo_corpus, args.pages)
        profile = run.edited_profile(hugo_corpus, "hugo")
        found = measure_hugo(hugo_corpus, run.hugo_binary(), profile, args.edits)
        print(f"hugo server, start: {found['start_cold']:.2f} s")
        for n, seconds in enumerate(found["edits"]):  # type: ignore[arg-type]
            print(f"hugo server, edit {n + 1} -> served: {seconds:.2f} s")
        print(f"hugo server, honour -> served: {found['honour']:.2f} s")
        print(f"hugo server, new story -> served: {found['added']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
