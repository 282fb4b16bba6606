"""Parallel work across processes: parsing front matter, Markdown conversion and page
rendering.

Workers are forked from the build process after everything they need is ready, so they
share the site model, the URL plan and the compiled templates without pickling them. Each
page is rendered on its own, so the output is the same whatever the number of workers.
Small jobs run in the build process itself. Each worker writes the pages it renders into the
staged output folder (file creation costs kernel time, which the workers share) and returns
each page's path, byte hash and the reads it made through the site view.
"""

from __future__ import annotations

import collections
import concurrent.futures
import concurrent.futures.process
import contextlib
import ctypes
import dataclasses
import functools
import gc
import hashlib
import multiprocessing
import multiprocessing.sharedctypes
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.debug

from generator.base.errors import Diagnostic
from generator.content import loader
from generator.output import guard, markup, templatefaults, theme, writer
from generator.output import render as templating
from generator.pages.base import PageJob
from generator.pages.view import Read, SiteView
from generator.site.bodies import Rendered
from generator.site.model import Item

PARALLEL_MIN = 300  # below this many tasks, forking costs more than it saves
CHUNK = 64
Progress = Callable[[int, int], None]

# fewer pages than this render in this process: starting workers would cost more
MIN_PARALLEL = 200

# The state a forked worker reads. Set by the parent right before the pool starts and reset
# right after; never changed while workers run.
_shared: dict[str, Any] = {}


class WorkerLost(OSError):
    """A worker process ended while it held tasks: the system ended it (out of memory, a
    crash inside a library, a kill). Its tasks are lost; the stage stops rather than wait
    for them."""


def worker_count(requested: int | None = None) -> int:
    if requested:
        return max(1, requested)
    env = os.environ.get("SHOWCASE_WORKERS", "")
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


def _chunks(n: int, size: int) -> list[range]:
    return [range(i, min(n, i + size)) for i in range(0, n, size)]


def _untold(done: int, total: int) -> None:
    """Progress no one is told of."""


def _run(
    task: Callable[[range], list[Any]],
    n: int,
    workers: int,
    progress: Progress | None,
    min_parallel: int = PARALLEL_MIN,
    meanwhile: Callable[[], None] | None = None,
    weigh: Callable[[range], int] = len,
    limited: bool = False,
) -> Iterator[list[Any]]:
    """The results of ``task`` on chunks of ``range(n)``, in order; ``meanwhile`` runs in this
    process once the workers have started (first, without workers). ``meanwhile`` must not
    start workers of its own: the objects frozen for these are unfrozen when they stop.
    ``progress`` is told how much is done, each chunk counting ``weigh(chunk)`` (by default,
    its number of tasks). ``limited``: the tasks run in workers limited by ``guard``, even
    one worker for few tasks (in this process only where none can be forked)."""
    chunks = _chunks(n, CHUNK)
    weights = [weigh(chunk) for chunk in chunks]
    tell = progress or _untold
    forkable = "fork" in multiprocessing.get_all_start_methods()
    if not forkable or (not limited and (workers <= 1 or n < min_parallel)):
        if meanwhile is not None:
            meanwhile()
        yield from _here(task, chunks, weights, tell)
        return
    yield from _pooled(task, chunks, weights, tell, meanwhile, workers, limited)


def _pooled(
    task: Callable[[range], list[Any]],
    chunks: list[range],
    weights: list[int],
    tell: Progress,
    meanwhile: Callable[[], None] | None,
    workers: int,
    limited: bool,
) -> Iterator[list[Any]]:
    """What ``_run`` yields, by forked workers (limited by ``guard`` with ``limited``: a
    site's own templates). The system may end one (``RLIMIT_CPU``, out of memory): an
    executor of processes, unlike ``multiprocessing.Pool``, sees that, and the stage stops
    with ``WorkerLost`` instead of waiting for ever."""
    ctx = multiprocessing.get_context("fork")
    # shared memory the workers inherit; true: they skip the chunks left
    stop = multiprocessing.sharedctypes.RawValue(ctypes.c_bool, False)
    # what exists now is never collected in the workers (their collector, on again, walks
    # only what they make), nor copied into them by the collector's bookkeeping
    gc.freeze()
    try:
        executor = concurrent.futures.ProcessPoolExecutor(
            max(1, min(workers, len(chunks))),
            mp_context=ctx,
            initializer=_worker_start,
            initargs=(os.getpid(), stop, limited),
        )
    except BaseException:  # no worker started (a process limit): nothing stays frozen
        gc.unfreeze()
        raise
    ending = False
    try:
        told = _Told(tell, sum(weights))
        pending: collections.deque[concurrent.futures.Future[list[Any]]] = collections.deque()
        for chunk, weight in zip(chunks, weights, strict=True):
            future = executor.submit(_unless_stopped, task, chunk)
            future.add_done_callback(functools.partial(_told_future, told, weight))
            pending.append(future)
        if meanwhile is not None:
            meanwhile()
        while pending:
            try:
                result = pending.popleft().result()
            except concurrent.futures.process.BrokenProcessPool as exc:
                raise WorkerLost(0, "a worker process ended") from exc
            yield result
        if told.failed is not None:
            raise told.failed
        ending = True
    finally:
        stop.value = not ending  # the workers skip what is left
        if not ending:  # interrupted or failed: the workers end now (SIGTERM)
            for process in list(getattr(executor, "_processes", {}).values()):
                with contextlib.suppress(OSError, AttributeError):
                    process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        gc.unfreeze()


def _told_future(told: _Told, weight: int, future: concurrent.futures.Future[Any]) -> None:
    """``told`` of a chunk of ``weight`` done (not of one that failed)."""
    if not future.cancelled() and future.exception() is None:
        told(weight, None)


def _here(
    task: Callable[[range], list[Any]], chunks: list[range], weights: list[int], tell: Progress
) -> Iterator[list[Any]]:
    """The results of ``task`` on ``chunks``, in this process; ``tell`` is told the weight
    of the chunks done after each, from 0 (the stage starts now: its rate counts from
    here)."""
    total, done = sum(weights), 0
    tell(0, total)
    for chunk, weight in zip(chunks, weights, strict=True):
        result = task(chunk)
        done += weight
        tell(done, total)
        yield result


class _Told:
    """Tells ``progress`` how much of ``total`` is done, adding the weight of one chunk at a
    time, from the pool's thread that takes the results (it starts at 0: the stage starts
    now). It never raises there (that thread would end, and the build wait forever): what
    ``progress`` raised is kept (``failed``), and it is told no more."""

    def __init__(self, progress: Callable[[int, int], None], total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.lock = threading.Lock()
        self.failed: Exception | None = None
        progress(0, total)

    def __call__(self, weight: int, _result: object) -> None:
        with self.lock:
            self.done += weight
            if self.failed is None:
                try:
                    self.progress(self.done, self.total)
                except Exception as exc:
                    self.failed = exc


def _worker_start(parent: int, stop: Any = None, limited: bool = False) -> None:
    """A worker's start: its collector on again (see ``_run``), what tells it to skip the
    chunks left (``stop``, a shared flag, if any), its limits (``limited``: see ``guard``)
    and, on Linux, its end as soon as the process that forked it ends (a build or a daemon
    killed: the worker would otherwise fail to send its result, and print why into the
    log)."""
    gc.enable()
    _shared["stop"] = stop
    if limited:
        guard.limit_worker()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # it ended before it could be asked
            os._exit(0)


_PR_SET_PDEATHSIG = 1


def _unless_stopped(task: Callable[[range], list[Any]], chunk: range) -> list[Any]:
    """``task(chunk)`` in a worker, or nothing once the build has stopped the workers."""
    return [] if _stopped() else task(chunk)


# -- Markdown ---------------------------------------------------------------------------------


# what ``convert`` makes of a body where it is converted, for ``Keep`` (None: nothing)
Then = Callable[[Item, Rendered], Any]
Keep = Callable[[list[Any]], None]
# takes a chunk of converted bodies and gives what is to be returned of them
Sink = Callable[[dict[str, Rendered]], Mapping[str, Rendered]]


def _convert_chunk(indices: range) -> list[tuple[str, Rendered, Any]]:
    items: Sequence[Item] = _shared["items"]
    pages: dict[str, str] = _shared["pages"]
    converter: markup.Converter = _shared["converter"]
    then: Then | None = _shared["then"]
    out: list[tuple[str, Rendered, Any]] = []
    for i in indices:
        item = items[i]
        body = converter.convert(item.body, item.key, pages[item.key])
        out.append((item.key, body, then(item, body) if then is not None else None))
    return out


def convert(
    items: Sequence[Item],
    pages: dict[str, str],
    converter: markup.Converter,
    workers: int,
    progress: Progress | None = None,
    then: Then | None = None,
    keep: Keep | None = None,
    sink: Sink | None = None,
) -> dict[str, Rendered]:
    """The bodies of ``items`` converted, by item key. ``then(item, body)`` runs where a body
    is converted (in a worker, when there are many) and makes something of it; ``keep``
    receives what it made in this process, a chunk at a time, in order, as it comes (so
    that it need not be held until the end). With a ``sink``, each chunk of bodies goes to
    it as it comes, and what it returns for them is what is returned."""
    with _sharing(items=items, pages=pages, converter=converter, then=then):
        out: dict[str, Rendered] = {}
        for result in _run(_convert_chunk, len(items), workers, progress):
            products = []
            bodies = {}
            for key, body, product in result:
                bodies[key] = body
                if product is not None:
                    products.append(product)
            out.update(sink(bodies) if sink is not None else bodies)
            if keep is not None and products:
                keep(products)
        return out


# -- Front matter -----------------------------------------------------------------------------


def _parse_chunk(indices: range) -> list[loader.Parsed]:
    files: Sequence[tuple[str, bytes]] = _shared["files"]
    return [loader.parse_file(*files[i]) for i in indices]


def parse_files(
    files: Sequence[tuple[str, bytes]], workers: int, progress: Progress | None = None
) -> list[loader.Parsed]:
    """``loader.parse_files`` shared out among ``workers`` processes when there are many; in
    this process when no worker can start (a process limit). ``progress`` is told how many
    files are parsed."""
    with _sharing(files=files):
        try:
            results = _run(_parse_chunk, len(files), workers, progress)
            return [parsed for result in results for parsed in result]
        except OSError:  # parsing reads nothing: the error is a worker that could not start
            return loader.parse_files(files)


# -- Pages ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Written:
    """A rendered page as the worker wrote it (``writer.write_new``): its byte hash and the
    reads it made."""

    path: str
    sha: str
    reads: frozenset[Read]


def _render_one(job: PageJob) -> templating.RenderedPage | Diagnostic:
    """The page of ``job``, or its template's fault (one over the limits of ``guard``
    too)."""
    try:
        with guard.page():
            return templating.render(_shared["env"], job, _shared["view"], _shared["bodies"])
    except (guard.TooSlow, Exception) as exc:  # any template fault is the page's error
        if isinstance(exc, guard.TooSlow | MemoryError):
            _over_a_limit()
        # TooSlow is not an Exception: Jinja left its traceback as Python's, which names the
        # lines of the compiled template; rewritten to name the template's own
        said = jinja2.debug.rewrite_traceback_stack() if isinstance(exc, guard.TooSlow) else exc
        fault = templatefaults.template_error(said, _shared["theme"])
        return templatefaults.while_rendering(fault, job)


def _over_a_limit() -> None:
    """A page went over a limit of ``guard``: the workers render no more pages (the build
    fails on its fault, and each page left could take as long: a loop in a template that
    every page extends would cost its seconds for every page)."""
    stop = _shared.get("stop")
    if stop is not None:
        stop.value = True


def _stopped() -> bool:
    stop = _shared.get("stop")
    return stop is not None and bool(stop.value)


def _rendered(indices: range) -> Iterator[templating.RenderedPage | Diagnostic]:
    """The pages of the jobs of ``indices`` (or their faults), until the workers stop."""
    jobs: Sequence[PageJob] = _shared["jobs"]
    for i in indices:
        if _stopped():
            return
        yield _render_one(jobs[i])


def _render_chunk(indices: range) -> list[Written | Diagnostic]:
    root: Path = _shared["root"]
    out: list[Written | Diagnostic] = []
    for page in _rendered(indices):
        if isinstance(page, Diagnostic):
            out.append(page)
            continue
        # a failed write (a full disk) fails the build, as a system error
        writer.write_new(root, page.path, page.data)
        out.append(Written(page.path, hashlib.sha256(page.data).hexdigest(), page.reads))
    return out


def _try_chunk(indices: range) -> list[Diagnostic]:
    return [fault for fault in _rendered(indices) if isinstance(fault, Diagnostic)]


def try_pages(
    env: jinja2.Environment,
    view: SiteView,
    jobs: Sequence[PageJob],
    theme_dirs: theme.ThemeDirs,
    bodies: Mapping[str, Rendered],
) -> list[Diagnostic]:
    """The faults of rendering ``jobs``, nothing written, in a worker limited by ``guard``
    when the templates are the site's own, else in this process; one per fault
    (``templatefaults.one_per_fault``), with how many other pages had it."""
    with _sharing(env=env, view=view, jobs=jobs, theme=theme_dirs, bodies=bodies):
        limited = theme_dirs.sandboxed
        results = _run(_try_chunk, len(jobs), 1, None, MIN_PARALLEL, limited=limited)
        return templatefaults.one_per_fault([fault for result in results for fault in result])


def render_pages(
    env: jinja2.Environment,
    view: SiteView,
    jobs: Sequence[PageJob],
    staged: writer.StagedOutput,
    theme_dirs: theme.ThemeDirs,
    workers: int,
    progress: Progress | None = None,
    meanwhile: Callable[[], None] | None = None,
    bodies: Mapping[str, Rendered] | None = None,
    each: Callable[[Written], None] | None = None,
) -> tuple[list[Written], list[Diagnostic]]:
    """Render ``jobs`` into the ``staged`` folder: each worker writes the pages it renders
    (their paths claimed here first) and returns what it wrote, with each page's reads;
    ``meanwhile`` runs in this process while the workers render. A detail page gets its
    item's HTML from ``bodies`` as it renders. ``progress`` counts the HTML pages only (the
    small files of the search index, feeds and data take a fraction of the time, and are
    no pages to the editor). ``each`` is told of each page written as it comes back from
    the workers, while they render the others. Returns what was written and any errors."""
    try:
        for name in sorted({job.template for job in jobs}):
            env.get_template(name)  # compile once, before the workers fork
    except (jinja2.TemplateError, SyntaxError, RecursionError) as exc:
        return [], [templatefaults.template_error(exc, theme_dirs)]
    staged.claim(job.path for job in jobs)
    with _sharing(env=env, view=view, jobs=jobs, theme=theme_dirs, root=staged.root, bodies=bodies):
        return _rendered_pages(jobs, workers, progress, meanwhile, theme_dirs.sandboxed, each)


def _rendered_pages(
    jobs: Sequence[PageJob],
    workers: int,
    progress: Progress | None,
    meanwhile: Callable[[], None] | None,
    limited: bool,
    each: Callable[[Written], None] | None,
) -> tuple[list[Written], list[Diagnostic]]:
    """What ``render_pages`` returns, once what the tasks share is set."""
    written: list[Written] = []
    problems: list[Diagnostic] = []
    # one object for each distinct read: pages read the same inputs many times over, and
    # each read comes back from a worker as an object of its own
    reads: dict[Read, Read] = {}
    weigh = functools.partial(_html_pages, jobs)
    results = _run(
        _render_chunk, len(jobs), workers, progress, MIN_PARALLEL, meanwhile, weigh, limited
    )
    for result in results:
        for entry in result:
            if isinstance(entry, Diagnostic):
                problems.append(entry)
            else:
                shared = frozenset(map(reads.setdefault, entry.reads, entry.reads))
                written.append(dataclasses.replace(entry, reads=shared))
                if each is not None:
                    each(written[-1])
    return written, templatefaults.one_per_fault(problems)


@contextlib.contextmanager
def _sharing(**values: Any) -> Iterator[None]:
    """Share ``values`` with the tasks while the block runs (with the workers it forks).
    What was shared under those names before is shared again after: the ``meanwhile`` of a
    stage may run another stage in this process (the search index computed, a missing body
    converted, its files rendered while the workers render the pages), before that stage's
    own tasks run here."""
    before = {name: _shared[name] for name in values if name in _shared}
    _shared.update(values)
    try:
        yield
    finally:
        for name in values:
            _shared.pop(name, None)
        _shared.update(before)


def _html_pages(jobs: Sequence[PageJob], chunk: range) -> int:
    """How many of the jobs of ``chunk`` make HTML pages (what the build reports as pages)."""
    return sum(jobs[i].path.endswith(".html") for i in chunk)
