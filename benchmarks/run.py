#!/usr/bin/env python3
"""Benchmark showcase against Pelican and Hugo on the same generated content.

    python3 benchmarks/run.py --sizes 1000 10000 [--tools showcase,pelican,hugo]
                              [--repeat 1] [--workdir benchmarks/work]

For each size the corpus is generated with ../shared/make_corpus.py in each tool's format
(same documents, same bodies), adjusted so that every tool renders the same page set (detail
pages; lists, unit, year and tag pages paginated by 20), and each tool is timed for a cold
build, a no-change rebuild, a rebuild after one profile was edited and one after a new
profile was added (the newest of the site, as a new story usually is). Wall time, CPU time
(user + sys) and peak memory (max RSS) come from os.wait4 on the tool's process. A Markdown
table per size is printed and written with all runs to benchmarks/results-<size>.json.

Hugo makes no search index; showcase makes one. So each Hugo build is also followed by
Pagefind on its output (its detail pages, as showcase indexes its documents): the
"hugo + pagefind" series is that pair, run one after the other as a site's build script would
(``--no-pagefind`` leaves it out).

Pelican, Hugo and Pagefind are installed from PyPI into benchmarks/.venv on first use; the
project's environment is never touched. Standard library only.
"""

from __future__ import annotations

import argparse
import compileall
import filecmp
import hashlib
import itertools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
VENV = HERE / ".venv"
MAKE_CORPUS = Path(os.environ.get("MAKE_CORPUS", REPO.parent / "shared" / "make_corpus.py"))
SEED = 1
PAGE_SIZE = 20
TOOLS = ("showcase", "pelican", "hugo")
EDIT_SENTENCE = "基准测试追加的一句话，用来检验增量构建（第{n}次修改）。"

# --------------------------------------------------------------------------- workload


PELICAN_EXTRA = """
# --- added by benchmarks/run.py: the same page set as showcase and Hugo ---
DEFAULT_PAGINATION = {page_size}
PAGINATED_TEMPLATES = {{
    "index": None, "tag": None, "category": None, "period_archives": None,
}}
YEAR_ARCHIVE_SAVE_AS = "posts/{{date:%Y}}/index.html"
YEAR_ARCHIVE_URL = "posts/{{date:%Y}}/"
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""
CATEGORY_SAVE_AS = "category/{{slug}}.html"
TAG_SAVE_AS = "tag/{{slug}}.html"
# one author only: its page would repeat the index, which showcase and Hugo do not have
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
# one site feed of the latest items, like showcase's feed.xml and Hugo's home RSS
FEED_MAX_ITEMS = 30
CATEGORY_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
# year archives list the page's 20 articles like category and tag pages do
THEME_TEMPLATES_OVERRIDES = [{overrides!r}]
"""

PELICAN_PERIOD_TEMPLATE = """{% extends "index.html" %}
{% block title %}{{ SITENAME }} - {{ period | reverse | join(' ') }}{% endblock %}
"""

HUGO_EXTRA = """
# --- added by benchmarks/run.py: the same page set as showcase and Pelican ---
[pagination]
  pagerSize = {page_size}
# one site feed of the latest items (like showcase's feed.xml), not one per list
[outputs]
  home = ["html", "rss"]
  section = ["html"]
  taxonomy = ["html"]
  term = ["html"]
[services.rss]
  limit = 30
"""

HUGO_LIST = """{{ define "main" }}<h1>{{ .Title }}</h1>
{{ range .Paginator.Pages }}<article><h2><a href="{{ .RelPermalink }}">{{ .Title }}</a></h2>
<time>{{ .Date.Format "2006-01-02" }}</time><div>{{ .Summary }}</div></article>
{{ end }}{{ template "_internal/pagination.html" . }}{{ end }}
"""

HUGO_HOME = """{{ define "main" }}<h1>{{ site.Title }}</h1>
{{ range (.Paginate site.RegularPages).Pages }}<article><h2><a href="{{ .RelPermalink }}">\
{{ .Title }}</a></h2>
<time>{{ .Date.Format "2006-01-02" }}</time><div>{{ .Summary }}</div></article>
{{ end }}{{ template "_internal/pagination.html" . }}{{ end }}
"""


def generate_corpus(fmt: str, dest: Path, pages: int) -> None:
    """make_corpus.py in one format, then the same pagination and page set for every tool."""
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    subprocess.run([sys.executable, str(MAKE_CORPUS), str(tmp), "--pages", str(pages),
                    "--seed", str(SEED), "--format", fmt], check=True,
                   stderr=subprocess.DEVNULL)
    if fmt == "native":
        site = tmp / "site.yaml"
        lines = [ln for ln in site.read_text(encoding="utf-8").splitlines()
                 if not ln.startswith("page_size:")]
        site.write_text("\n".join([*lines, f"page_size: {PAGE_SIZE}"]) + "\n", encoding="utf-8")
    elif fmt == "pelican":
        overrides = tmp / "templates-override"
        overrides.mkdir()
        (overrides / "period_archives.html").write_text(PELICAN_PERIOD_TEMPLATE,
                                                        encoding="utf-8")
        conf = tmp / "pelicanconf.py"
        extra = PELICAN_EXTRA.format(page_size=PAGE_SIZE, overrides=str(dest / overrides.name))
        conf.write_text(conf.read_text(encoding="utf-8") + extra, encoding="utf-8")
    else:
        conf = tmp / "hugo.toml"
        conf.write_text(conf.read_text(encoding="utf-8") + HUGO_EXTRA.format(page_size=PAGE_SIZE),
                        encoding="utf-8")
        layouts = tmp / "layouts"
        (layouts / "list.html").write_text(HUGO_LIST, encoding="utf-8")
        (layouts / "term.html").write_text(HUGO_LIST, encoding="utf-8")
        (layouts / "home.html").write_text(HUGO_HOME, encoding="utf-8")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def edited_profile(corpus: Path, fmt: str) -> Path:
    """The same profile in each format: the first profile file by path."""
    base = corpus / "profiles" if fmt == "native" else corpus / "content" / "profiles"
    return min(base.rglob("*.md"))


ADDED_NAME = "zz-added-by-benchmark.md"


def remove_added(corpus: Path, fmt: str) -> None:
    """Remove a story a stopped run added and did not take away: left there, "adding" it
    again would write the same file, and the add-story build would change nothing."""
    base = corpus / "profiles" if fmt == "native" else corpus / "content" / "profiles"
    for left in base.rglob(ADDED_NAME):
        left.unlink()


def add_story(corpus: Path, fmt: str) -> Path:
    """A new profile, the newest of the site: the first profile of the newest year copied
    under another name and person, dated the last day of that year. Returns its path."""
    base = corpus / "profiles" if fmt == "native" else corpus / "content" / "profiles"
    newest = max(p for p in base.iterdir() if p.is_dir())
    source = min(p for p in newest.glob("*.md") if p.name != ADDED_NAME)
    text = source.read_text(encoding="utf-8")
    lines = []
    for line in text.split("\n"):
        key, colon, value = line.partition(":")
        field = key.strip().lower() if colon else ""  # Pelican's keys are capitalised
        if field == "date":
            line = f"{key}: {newest.name}-12-31"
        elif field in ("name", "title"):  # another person: surname 新
            quote = '"' if value.strip().startswith('"') else ""
            plain = value.strip().strip('"')
            line = f"{key}: {quote}新{plain[1:]}{quote}"
        elif field == "slug":
            line = f"{key}: {value.strip()}-added"
        lines.append(line)
    added = newest / ADDED_NAME
    added.write_text("\n".join(lines), encoding="utf-8")
    return added


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    kind: str  # cold, no-change, one-edit, add-story
    wall: float  # seconds
    cpu: float  # user + sys seconds of the child (and the children it waited for)
    rss_mib: float  # max RSS of the child (largest single process in its tree)
    rc: int


DROP_CACHES = False  # --drop-caches: the kernel's file cache emptied before each cold start


def settle() -> None:
    """Before a cold build or a preview server's start, with --drop-caches: write out and
    drop the kernel's file cache (Linux, as root), so that every tool starts from the same
    state (``main`` tries it once first, so that a run without the right fails at once). On some
    virtual machines, creating files costs more system time the larger that cache has grown
    (measured here: 0.1 ms a file with it dropped, up to 1 ms with gigabytes cached), which
    made cold builds late in a run slower than early ones."""
    if not DROP_CACHES:
        return
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n", encoding="ascii")
    except OSError as exc:
        raise SystemExit(f"--drop-caches: cannot drop the file cache ({exc})") from exc


def measure(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run cmd and take its resource usage from os.wait4: that child only, not this process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    err = proc.stderr.read()  # drained so the child never blocks on a full pipe
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        sys.stderr.write(err.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return Run("", wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
               proc.returncode)


def count_files(out: Path) -> tuple[int, int]:
    """(HTML pages, all files) in an output folder."""
    html = files = 0
    for _, _, names in os.walk(out):
        files += len(names)
        html += sum(1 for n in names if n.endswith(".html"))
    return html, files


def same_tree(a: Path, b: Path) -> list[str]:
    """Paths that differ between two folders (missing on one side or other bytes)."""
    def listing(root: Path) -> set[str]:
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    left, right = listing(a), listing(b)
    diff = sorted(left ^ right)
    for rel in sorted(left & right):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            diff.append(rel)
    return diff


@dataclass
class Series:
    tool: str
    runs: list[Run] = field(default_factory=list)
    pages: int = 0
    files: int = 0
    identical: str = ""  # showcase: OK / DIFF after the one-edit and add-story builds
    diff_sample: list[str] = field(default_factory=list)

    def median(self, kind: str, attr: str) -> float | None:
        values = [getattr(r, attr) for r in self.runs if r.kind == kind]
        return statistics.median(values) if values else None


def venv_bin(name: str) -> Path:
    return VENV / "bin" / name


def ensure_venv(tools: list[str]) -> None:
    """benchmarks/.venv with Pelican, Hugo and Pagefind (its extended binary, which splits
    Chinese into words) from PyPI, created on first use."""
    wanted = [t for t in tools if t in ("pelican", "hugo")]
    if not wanted:
        return
    if not venv_bin("python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    missing = [pkg for tool, pkg in (("pelican", "pelican[markdown]"), ("hugo", "hugo"))
               if tool in wanted and not venv_bin(tool).exists()]
    if PAGEFIND and "hugo" in wanted and pagefind_binary() is None:
        missing.append("pagefind-bin-extended")
    if missing:
        done = subprocess.run([str(venv_bin("python")), "-m", "pip", "install", "--quiet",
                               *missing], check=False)
        if done.returncode != 0:
            raise SystemExit(f"could not install {' '.join(missing)} into {VENV}"
                             + (" (--no-pagefind runs Hugo alone)" if PAGEFIND else ""))
    if PAGEFIND and "hugo" in wanted and pagefind_binary() is None:
        raise SystemExit(f"Pagefind's extended binary is not in {VENV} after its install "
                         "(--no-pagefind runs Hugo alone)")


def hugo_binary() -> Path:
    """The Go binary itself, not the Python launcher around it (no interpreter in the timing)."""
    found = sorted((VENV / "lib").glob("python*/site-packages/hugo/binaries/hugo*"))
    return found[0] if found else venv_bin("hugo")


def pagefind_binary() -> Path | None:
    """Pagefind's extended binary in the venv (not its Python launcher), if installed."""
    found = sorted((VENV / "lib").glob("python*/site-packages/pagefind_bin_extended/"
                                       "pagefind_extended"))
    return found[0] if found else None


PAGEFIND = True  # --no-pagefind: Hugo's builds are not followed by Pagefind


def tool_versions(tools: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for tool in tools:
        if tool == "showcase":
            cmd = [sys.executable, "-m", "generator", "--version"]
        elif tool == "pelican":
            cmd = [str(venv_bin("pelican")), "--version"]
        else:
            cmd = [str(hugo_binary()), "version"]
        res = subprocess.run(cmd, capture_output=True, text=True, cwd=SNAPSHOT or REPO,
                             env=showcase_env())
        text = (res.stdout or res.stderr).strip().splitlines()
        out[tool] = text[-1] if text else "?"
        if tool == "pelican":
            out[tool] = "pelican " + out[tool]
    pagefind = pagefind_binary()
    if PAGEFIND and "hugo" in tools and pagefind is not None:
        res = subprocess.run([str(pagefind), "--version"], capture_output=True, text=True)
        out["pagefind"] = res.stdout.strip() + " (extended)"
    out["python"] = platform.python_version()
    return out


SNAPSHOT: Path | None = None  # set by snapshot_showcase(); None: the working tree


def snapshot_showcase(workdir: Path) -> str:
    """Copy generator/ and themes/ as they are now, so that every showcase build of this run
    uses one version of the code even while others edit the working tree (run with the copy
    as working directory and on PYTHONPATH, ahead of the editable install). Returns a digest."""
    global SNAPSHOT
    dest = workdir / "showcase-src"
    shutil.rmtree(dest, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "generator", dest / "generator", ignore=ignore)
    shutil.copytree(REPO / "themes", dest / "themes", ignore=ignore)
    # generator.themes resolves inside the copy, before the editable install's finder
    shutil.copytree(REPO / "themes", dest / "generator" / "themes", ignore=ignore)
    digest = hashlib.sha256()
    for path in sorted(p for p in (dest / "generator").rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(dest)).encode() + b"\0" + path.read_bytes())
    # the bytecode, as `pip install` compiles it: each build process then loads the modules
    # instead of compiling them again (PYTHONDONTWRITEBYTECODE, set on some machines, would
    # otherwise make every build compile the whole package)
    compileall.compile_dir(dest / "generator", quiet=1)
    SNAPSHOT = dest
    return digest.hexdigest()[:12]


def showcase_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(SNAPSHOT or REPO)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
    return env


def machine() -> dict[str, str]:
    info = {"cpu": "?", "cores": str(os.cpu_count()), "ram": "?", "os": platform.platform()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["ram"] = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
        info["load"] = Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        pass
    info["usable_cores"] = str(len(os.sched_getaffinity(0)))
    return info


# --------------------------------------------------------------------------- the tools


def showcase_build(corpus: Path, env: dict[str, str]) -> Any:
    """``build(dest, *extra)``: `showcase build` of ``corpus`` into ``dest``, measured."""

    def build(dest: Path, *extra: str) -> Run:
        return measure([sys.executable, "-m", "generator", "build", str(corpus), "-o", str(dest),
                        "--quiet", *extra], SNAPSHOT or REPO, env)

    return build


def bench_showcase(corpus: Path, work: Path, repeat: int) -> Series:
    series = Series("showcase")
    out, verify = work / "out-showcase", work / "out-showcase-clean"
    cache = corpus / ".showcase-cache"
    remove_added(corpus, "native")
    profile = edited_profile(corpus, "native")
    original = profile.read_bytes()
    env = showcase_env()
    build = showcase_build(corpus, env)

    for n in range(repeat):
        profile.write_bytes(original)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)
        settle()
        series.runs.append(replace_kind(build(out), "cold"))
        if n == 0:
            series.pages, series.files = count_files(out)
        series.runs.append(replace_kind(build(out), "no-change"))
        append_sentence(profile, n)
        series.runs.append(replace_kind(build(out), "one-edit"))
        compare_with_clean(series, out, verify, build)
        added = add_story(corpus, "native")
        series.runs.append(replace_kind(build(out), "add-story"))
        compare_with_clean(series, out, verify, build)
        added.unlink()
    profile.write_bytes(original)
    if series.identical == "OK":  # kept for inspection otherwise
        shutil.rmtree(verify, ignore_errors=True)
    return series


def bench_daemon(corpus: Path, work: Path, repeat: int, edits: int = 1) -> Series:
    """The same edits while `showcase daemon` keeps the site in memory: each `showcase build`
    hands its build to it, ``edits`` one-edit builds in a row (each a sentence more, the
    figure their median). Wall time is the build command's; CPU time adds the daemon's, and
    peak RSS is the daemon's (its high-water mark after the build)."""
    series = Series("showcase daemon")
    out, verify = work / "out-showcase", work / "out-showcase-clean"
    remove_added(corpus, "native")
    profile = edited_profile(corpus, "native")
    original = profile.read_bytes()
    env = showcase_env()
    build = showcase_build(corpus, env)

    build(out)  # the output and the cache as a build left them
    daemon = start_daemon(corpus, out, env)
    try:
        for n in range(repeat):
            series.runs.append(with_daemon(daemon.pid, "no-change", lambda: build(out)))
            for k in range(edits):
                append_sentence(profile, 100 + n * edits + k)
                series.runs.append(with_daemon(daemon.pid, "one-edit", lambda: build(out)))
            compare_with_clean(series, out, verify, build)
            added = add_story(corpus, "native")
            series.runs.append(with_daemon(daemon.pid, "add-story", lambda: build(out)))
            compare_with_clean(series, out, verify, build)
            added.unlink()
            profile.write_bytes(original)
    finally:
        subprocess.run([sys.executable, "-m", "generator", "daemon", str(corpus), "--stop"],
                       cwd=SNAPSHOT or REPO, env=env, capture_output=True)
        try:
            daemon.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()
        profile.write_bytes(original)
    if series.identical == "OK":
        shutil.rmtree(verify, ignore_errors=True)
    return series


def start_daemon(corpus: Path, out: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`showcase daemon` of ``corpus`` (first build into ``out``), once it listens."""
    address = corpus / ".showcase-cache" / "daemon.json"
    address.unlink(missing_ok=True)
    daemon = subprocess.Popen([sys.executable, "-m", "generator", "daemon", str(corpus), "-o",
                               str(out), "--idle", "60"], cwd=SNAPSHOT or REPO, env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    while not address.exists():
        if daemon.poll() is not None:
            raise SystemExit("showcase daemon ended before it listened")
        time.sleep(0.1)
    return daemon


def with_daemon(pid: int, kind: str, run: Any) -> Run:
    """``run()`` (a build handed to the daemon ``pid``) with the daemon's CPU time added and
    its peak RSS, both read once the daemon is idle again (it saves what the next build
    needs after it answered)."""
    before = process_cpu(pid)
    done: Run = run()
    done.kind = kind
    used = process_cpu(pid)
    while True:
        time.sleep(0.5)
        now = process_cpu(pid)
        if now == used:
            break
        used = now
    done.cpu += used - before
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    peak = next(line for line in status if line.startswith("VmHWM:"))
    done.rss_mib = int(peak.split()[1]) / 1024
    return done


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a running process and its ended workers so far (Linux
    /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    # utime, stime, and those of the worker processes it waited for
    return sum(int(fields[n]) for n in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")


def compare_with_clean(series: Series, out: Path, verify: Path, build: Any) -> None:
    """Compare ``out`` with a clean build (no cache) into ``verify``; any difference marks
    the series DIFF for good."""
    shutil.rmtree(verify, ignore_errors=True)
    build(verify, "--no-cache")
    diff = same_tree(out, verify)
    if diff or series.identical != "DIFF":
        series.identical = "DIFF" if diff else "OK"
        series.diff_sample = diff[:10]


def bench_pelican(corpus: Path, work: Path, repeat: int) -> list[Series]:
    plain, cached = Series("pelican"), Series("pelican cached")
    out, cache = work / "out-pelican", work / "cache-pelican"
    remove_added(corpus, "pelican")
    profile = edited_profile(corpus, "pelican")
    original = profile.read_bytes()
    cmd = [str(venv_bin("pelican")), "content", "-s", "pelicanconf.py", "-o", str(out), "-q"]

    def build(use_cache: bool) -> Run:
        env = dict(os.environ, PELICAN_CACHE="1" if use_cache else "0",
                   PELICAN_CACHE_PATH=str(cache))
        return measure(cmd, corpus, env)

    for n in range(repeat):
        for series, use_cache in ((plain, False), (cached, True)):
            profile.write_bytes(original)
            shutil.rmtree(out, ignore_errors=True)
            shutil.rmtree(cache, ignore_errors=True)
            settle()
            series.runs.append(replace_kind(build(use_cache), "cold"))
            if n == 0:
                series.pages, series.files = count_files(out)
            series.runs.append(replace_kind(build(use_cache), "no-change"))
            append_sentence(profile, n)
            series.runs.append(replace_kind(build(use_cache), "one-edit"))
            added = add_story(corpus, "pelican")
            series.runs.append(replace_kind(build(use_cache), "add-story"))
            added.unlink()
    profile.write_bytes(original)
    return [plain, cached]


PAGEFIND_BODY = "data-pagefind-body"  # on Hugo's detail pages: Pagefind indexes those alone


def mark_pagefind_body(corpus: Path) -> None:
    """Have Pagefind index the detail pages alone (the documents showcase's search finds),
    not every list page: the attribute on the article of Hugo's single-page layout."""
    single = corpus / "layouts" / "single.html"
    text = single.read_text(encoding="utf-8")
    if PAGEFIND_BODY not in text:
        marked = text.replace("<article>", f"<article {PAGEFIND_BODY}>", 1)
        if marked == text:
            raise SystemExit(f"{single}: no <article> to mark for Pagefind")
        single.write_text(marked, encoding="utf-8")


def bench_hugo(corpus: Path, work: Path, repeat: int) -> list[Series]:
    """Hugo's series, and with Pagefind, that of Hugo then Pagefind on its output."""
    series, searched = Series("hugo"), Series("hugo + pagefind")
    out = work / "out-hugo"
    remove_added(corpus, "hugo")
    pagefind = pagefind_binary() if PAGEFIND else None
    if pagefind is not None:
        mark_pagefind_body(corpus)
    profile = edited_profile(corpus, "hugo")
    original = profile.read_bytes()
    cmd = [str(hugo_binary()), "--quiet", "--destination", str(out)]

    def build(kind: str, count: bool = False) -> None:
        hugo = replace_kind(measure(cmd, corpus), kind)
        series.runs.append(hugo)
        if count:
            series.pages, series.files = count_files(out)
        if pagefind is None:
            return
        found = measure([str(pagefind), "--site", str(out), "--quiet"], corpus)
        searched.runs.append(Run(kind, hugo.wall + found.wall, hugo.cpu + found.cpu,
                                 max(hugo.rss_mib, found.rss_mib), found.rc))
        if count:  # Hugo's pages, and every file with the index's
            searched.pages, searched.files = series.pages, count_files(out)[1]

    for n in range(repeat):
        profile.write_bytes(original)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(corpus / "resources", ignore_errors=True)
        settle()
        build("cold", count=n == 0)
        build("no-change")
        append_sentence(profile, n)
        build("one-edit")
        added = add_story(corpus, "hugo")
        build("add-story")
        added.unlink()
    profile.write_bytes(original)
    return [series, searched] if pagefind is not None else [series]


def bench_serve(base: Path, tools: list[str], edits: int) -> dict[str, dict[str, object]]:
    """The preview servers on the corpora of one size (benchmarks/serve.py measures)."""
    import serve  # benchmarks/serve.py, beside this file

    found: dict[str, dict[str, object]] = {}
    if "showcase" in tools:
        print("[serve] showcase serve ...", file=sys.stderr, flush=True)
        settle()
        found["showcase"] = serve.measure_showcase(base / "native", edits)
    if "hugo" in tools:
        print("[serve] hugo server ...", file=sys.stderr, flush=True)
        corpus = base / "hugo"
        profile = edited_profile(corpus, "hugo")
        settle()
        found["hugo"] = serve.measure_hugo(corpus, hugo_binary(), profile, edits)
    return found


def serve_table(size: int, found: dict[str, dict[str, object]]) -> str:
    """The preview servers' figures as a Markdown table."""
    lines = [f"Preview server, {size:,} documents (edit: a sentence appended to one profile, "
             "until its page, fetched over HTTP every 20 ms, shows it; honour: its first "
             "honour changed, until its page shows the new one; new story: the "
             "add-story build's profile saved, until its page shows its name):", "",
             "| tool | start, cold s | first build done s | start, warm s "
             "| edit -> served, median s | max s | honour -> served s "
             "| new story -> served s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for tool, figures in found.items():
        times = sorted(figures["edits"])  # type: ignore[call-overload]
        median = statistics.median(times) if times else None
        lines.append(f"| {tool} | {fmt(figures['start_cold'])} "  # type: ignore[arg-type]
                     f"| {fmt(figures['built_cold'])} "  # type: ignore[arg-type]
                     f"| {fmt(figures['start_warm'])} | {fmt(median)} "  # type: ignore[arg-type]
                     f"| {fmt(times[-1] if times else None)} "
                     f"| {fmt(figures.get('honour'))} "  # type: ignore[arg-type]
                     f"| {fmt(figures.get('added'))} |")  # type: ignore[arg-type]
    return "\n".join(lines)


def replace_kind(run: Run, kind: str) -> Run:
    run.kind = kind
    return run


def append_sentence(path: Path, n: int) -> None:
    with path.open("a", encoding="utf-8", newline="\n") as f:
        f.write("\n" + EDIT_SENTENCE.format(n=n + 1) + "\n")


# --------------------------------------------------------------------------- report

KINDS = ("cold", "no-change", "one-edit", "add-story")


def fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    return f"{value:.0f}{unit}" if value >= 100 else f"{value:.2f}{unit}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "–"


def table(size: int, all_series: list[Series]) -> str:
    by_tool = {s.tool: s for s in all_series}
    sc = by_tool.get("showcase")
    rows = [f"### {size:,} documents", "",
            "| tool | build | wall s | CPU s | peak RSS MiB | HTML pages | files |"
            " showcase ÷ tool: wall | CPU | RSS |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in all_series:
        for kind in KINDS:
            wall, cpu, rss = (s.median(kind, a) for a in ("wall", "cpu", "rss_mib"))
            if wall is None:
                continue
            mine = [sc.median(kind, a) if sc else None for a in ("wall", "cpu", "rss_mib")]
            ratios = (["–"] * 3 if s is sc else
                      [ratio(m, v) for m, v in zip(mine, (wall, cpu, rss), strict=True)])
            shown = ("one-edit", "add-story")
            note = f" ({s.identical})" if s.tool.startswith("showcase") and kind in shown else ""
            counts = f"{s.pages} | {s.files}" if kind == "cold" else " | "
            rows.append(f"| {s.tool} | {kind}{note} | {fmt(wall)} | {fmt(cpu)} | {fmt(rss)} | "
                        f"{counts} | {' | '.join(ratios)} |")
    return "\n".join(rows)


def targets(size: int, all_series: list[Series]) -> list[str]:
    by_tool = {s.tool: s for s in all_series}
    sc = by_tool.get("showcase")
    if sc is None:
        return []
    lines = []

    def check(label: str, ok: bool, value: str) -> None:
        lines.append(f"- {'met ' if ok else 'MISS'} {label}: {value}")

    cold = sc.median("cold", "wall") or 0.0
    if "hugo" in by_tool:
        hugo_cold = by_tool["hugo"].median("cold", "wall") or 1.0
        ratio = cold / hugo_cold
        check("cold ≤ Hugo (ratio ≤ 1.0)", ratio <= 1.0, f"{ratio:.2f}")
        check("cold ≤ 1.5× Hugo (the speed issue's target)", ratio <= 1.5, f"{ratio:.2f}")
        hugo_rss = by_tool["hugo"].median("cold", "rss_mib") or 1.0
        rss = sc.median("cold", "rss_mib") or 0.0
        check("peak RSS ≤ ⅓ of Hugo's", rss / hugo_rss <= 1 / 3, f"{rss / hugo_rss:.3f}")
        check("peak RSS ≤ 0.35× Hugo's (the speed issue's target)", rss / hugo_rss <= 0.35,
              f"{rss / hugo_rss:.3f}")
    if "hugo + pagefind" in by_tool:  # the same work: a site with its full-text search
        searched = by_tool["hugo + pagefind"].median("cold", "wall") or 1.0
        check("cold ≤ 1.5× Hugo + Pagefind (both with a search index)",
              cold / searched <= 1.5, f"{cold / searched:.2f}")
    if "pelican" in by_tool:
        pel = by_tool["pelican"].median("cold", "wall") or 0.0
        check("cold ≥ 5× faster than Pelican", pel / cold >= 5 if cold else False,
              f"{pel / cold:.1f}×" if cold else "–")
    nochange = sc.median("no-change", "wall") or 0.0
    check("no-change ≤ 1 s", nochange <= 1.0, f"{nochange:.2f} s")
    edit = sc.median("one-edit", "wall") or 0.0
    check("one edit ≤ 0.5 s and byte-identical", edit <= 0.5 and sc.identical == "OK",
          f"{edit:.2f} s, {sc.identical}")
    kept = by_tool.get("showcase daemon")
    if kept is not None:
        edit = kept.median("one-edit", "wall") or 0.0
        each = ", ".join(f"{r.wall:.2f}" for r in kept.runs if r.kind == "one-edit")
        check("one edit ≤ 0.5 s and byte-identical, handed to showcase daemon (median)",
              edit <= 0.5 and kept.identical == "OK", f"{edit:.2f} s ({each}), {kept.identical}")
    return [f"Targets at {size:,} (the project's targets are set for 10,000):", *lines]


def merge(old: dict[str, object], new: list[Series], versions: dict[str, str]) -> list[Series]:
    """The series of this run, plus those not run now from an earlier results file (by their
    whole name: Hugo run without Pagefind keeps the earlier "hugo + pagefind" series)."""
    ran = {s.tool for s in new}
    kept: list[Series] = []
    for data in old.get("series", []):  # type: ignore[union-attr]
        if data["tool"] in ran:
            continue
        runs = [Run(**r) for r in data.pop("runs")]
        kept.append(Series(**data, runs=runs))
        old_versions = old.get("versions", {})
        named = [data["tool"].split()[0]] + (["pagefind"] if "pagefind" in data["tool"] else [])
        for tool in named:
            if isinstance(old_versions, dict) and tool in old_versions:
                earlier = str(old_versions[tool]).replace(" (earlier run)", "")
                versions.setdefault(tool, earlier + " (earlier run)")
    order = {t: i for i, t in enumerate(TOOLS)}
    return sorted(new + kept, key=lambda s: order.get(s.tool.split()[0], 99))


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--tools", default=",".join(TOOLS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=HERE / "work")
    ap.add_argument("--regenerate", action="store_true", help="rebuild the corpora")
    ap.add_argument("--daemon-edits", type=int, default=5, metavar="N",
                    help="one-edit builds handed to the daemon in a row (their median is shown)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other tools' runs from an existing results-<size>.json")
    ap.add_argument("--serve", type=int, default=0, metavar="EDITS",
                    help="also time the preview servers (showcase serve, hugo server): "
                         "start, and EDITS edits until the edited page is served changed")
    ap.add_argument("--no-pagefind", action="store_true",
                    help="do not follow each Hugo build by Pagefind on its output")
    ap.add_argument("--drop-caches", action="store_true",
                    help="drop the kernel's file cache before each cold build and each "
                         "preview server's start (Linux, root)")
    return ap


FORMAT_OF = {"showcase": "native", "pelican": "pelican", "hugo": "hugo"}


def bench_size(size: int, tools: list[str], args: argparse.Namespace) -> list[Series]:
    """Every tool's series at one size (the corpora generated first where missing)."""
    base = args.workdir.resolve() / str(size)
    base.mkdir(parents=True, exist_ok=True)
    all_series: list[Series] = []
    for tool in tools:
        corpus = base / FORMAT_OF[tool]
        if args.regenerate or not corpus.exists():
            print(f"[{size}] generating {FORMAT_OF[tool]} corpus", file=sys.stderr)
            generate_corpus(FORMAT_OF[tool], corpus, size)
        print(f"[{size}] {tool} ...", file=sys.stderr, flush=True)
        if tool == "showcase":
            all_series.append(bench_showcase(corpus, base, args.repeat))
            print(f"[{size}] showcase daemon ...", file=sys.stderr, flush=True)
            all_series.append(bench_daemon(corpus, base, args.repeat, args.daemon_edits))
        elif tool == "pelican":
            all_series.extend(bench_pelican(corpus, base, args.repeat))
        else:
            all_series.extend(bench_hugo(corpus, base, args.repeat))
    return all_series


def report_size(size: int, all_series: list[Series], args: argparse.Namespace,
                info: dict[str, str], versions: dict[str, str], tools: list[str]) -> None:
    """Print one size's table and targets, then write them to results-<size>.json (with the
    preview servers' figures, measured now, with --serve)."""
    print()
    print(table(size, all_series))
    sc = next((s for s in all_series if s.tool == "showcase"), None)
    if sc is not None:
        sample = f" {sc.diff_sample}" if sc.diff_sample else ""
        print(f"\nshowcase after one edit and after a new story vs a clean build: "
              f"{sc.identical}{sample}")
    report = targets(size, all_series)
    if report:
        print("\n" + "\n".join(report))
    result = {"size": size, "seed": SEED, "page_size": PAGE_SIZE, "repeat": args.repeat,
              "machine": info, "versions": versions, "drop_caches": args.drop_caches,
              "series": [asdict(s) for s in all_series], "targets": report}
    if args.serve:
        result["serve"] = bench_serve(args.workdir.resolve() / str(size), tools, args.serve)
        print("\n" + serve_table(size, result["serve"]))
    (HERE / f"results-{size}.json").write_text(
        json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def print_scaling(size_series: dict[int, list[Series]]) -> None:
    """The cold builds' wall time ratio between consecutive sizes, per tool."""
    if len(size_series) < 2:
        return
    print("\nScaling of cold builds (wall time ratio between consecutive sizes):")
    for small, big in itertools.pairwise(sorted(size_series)):
        for s in size_series[big]:
            prev = next((p for p in size_series[small] if p.tool == s.tool), None)
            if prev is not None:
                print(f"- {s.tool}: {big:,}/{small:,} = "
                      f"{ratio(s.median('cold', 'wall'), prev.median('cold', 'wall'))}")


def main(argv: list[str] | None = None) -> int:
    ap = parser()
    args = ap.parse_args(argv)
    global DROP_CACHES, PAGEFIND
    DROP_CACHES = args.drop_caches
    PAGEFIND = not args.no_pagefind
    settle()  # without the right to, the run stops here rather than half-way
    tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    unknown = set(tools) - set(TOOLS)
    if unknown or not tools:
        ap.error(f"--tools: choose from {','.join(TOOLS)}")
    ensure_venv(tools)
    code = snapshot_showcase(args.workdir.resolve()) if "showcase" in tools else ""
    info, versions = machine(), tool_versions(tools)
    if code:
        versions["showcase"] += f" (working tree at start, generator/ sha256 {code})"
    print(f"machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
          f"{info['ram']} RAM, load {info.get('load', '?')}, {info['os']}")
    print("versions: " + "; ".join(f"{k}: {v}" for k, v in versions.items()))
    size_series: dict[int, list[Series]] = {}
    for size in args.sizes:
        all_series = bench_size(size, tools, args)
        results = HERE / f"results-{size}.json"
        if args.merge and results.exists():
            all_series = merge(json.loads(results.read_text(encoding="utf-8")), all_series,
                               versions)
        size_series[size] = all_series
        report_size(size, all_series, args, info, versions, tools)
    print_scaling(size_series)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
