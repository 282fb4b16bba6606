"""``showcase build``: build a site into its output folder, with a progress bar on a terminal
and every diagnostic on stderr."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from generator.base import memory, messages, stopping
from generator.base.config import CACHE_DIR, DEFAULT_LANGUAGE, BuildOptions
from generator.base.report import BuildReport
from generator.cli import console as reporting
from generator.cli import handoff, parsing

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(sub: Any) -> None:
    b = sub.add_parser("build", help=t("cli-build"), description=t("cli-build"))
    b.add_argument(
        "source",
        nargs="?",
        default=None,
        metavar=t("cli-metavar-source"),
        help=t("cli-source"),
    )
    b.add_argument("-o", "--output", default=None, help=t("cli-output"))
    b.add_argument("--drafts", action="store_true", help=t("cli-drafts"))
    b.add_argument("--strict", action="store_true", help=t("cli-strict"))
    b.add_argument("-q", "--quiet", action="store_true", help=t("cli-quiet"))
    b.add_argument("--no-cache", action="store_true", help=t("cli-no-cache"))
    b.add_argument("--cache-dir", default=None, help=t("cli-cache-dir"))
    b.add_argument("--force", action="store_true", help=t("cli-build-force"))
    b.add_argument("-j", "--workers", type=_workers, default=0, help=t("cli-workers"))
    b.set_defaults(func=cmd_build)


def _workers(given: str) -> int:
    """A number of worker processes: 0 (one per CPU core) or more."""
    try:
        workers = int(given)
    except ValueError:
        workers = -1
    if workers < 0:
        raise argparse.ArgumentTypeError(t("cli-workers-invalid").format(given=given))
    return workers


class ProgressBar:
    """A one-line progress bar on stderr, per stage of the build (the files read, the
    bodies, then the HTML pages), with the stage's rate and an estimate of the time it has
    left."""

    def __init__(self) -> None:
        self.stage = ""
        self.started = time.perf_counter()
        self.shown = 0.0
        self.active = False

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != self.stage:  # the rate and the time left are the stage's own
            self.stage, self.started = stage, now
        if done == 0 or (done < total and now - self.shown < 0.1):
            return  # nothing to show yet, or shown a moment ago
        self.shown = now
        elapsed = max(now - self.started, 1e-6)
        rate = done / elapsed
        left = (total - done) / rate if rate else 0.0
        width = 30
        filled = int(width * done / max(total, 1))
        line = messages.text(
            DEFAULT_LANGUAGE,
            f"progress-{stage}",
            done=done,
            total=total,
            rate=f"{rate:.0f}",
            left=f"{left:.0f}",
        )
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {line}\x1b[K")
        sys.stderr.flush()
        self.active = True

    def finish(self) -> None:
        if self.active:
            sys.stderr.write("\n")
            sys.stderr.flush()


def print_report(report: BuildReport, source: Path, quiet: bool) -> None:
    lang = report.language
    for diagnostic in report.diagnostics:
        if quiet and not diagnostic.is_error:
            continue
        print(reporting.format_diagnostic(diagnostic, lang, source), file=sys.stderr)
    if report.diagnostics:
        print(reporting.summary(report.diagnostics, lang), file=sys.stderr)


def cmd_build(args: argparse.Namespace) -> int:
    source = Path(args.source)
    if not source.is_dir():
        print(t("source-missing").format(path=source, command="build"), file=sys.stderr)
        return EXIT_USAGE
    if not os.path.isfile(source / parsing.SITE_FILE):  # a wrong folder: no cache is made in it
        print(t("build-not-a-site").format(source=source), file=sys.stderr)
        return EXIT_USAGE
    args.output = args.output or str(default_output(source))
    cache_dir = cache_folder(args, source)
    problem = cache_problem(cache_dir, source, Path(args.output))
    if problem:
        return refuse_cache(problem, cache_dir)
    options = BuildOptions(
        source=source,
        output=Path(args.output),
        drafts=args.drafts,
        strict=args.strict,
        cache_dir=cache_dir,
        workers=args.workers,
        force=args.force,
    )
    bar = None if args.quiet or not sys.stderr.isatty() else ProgressBar()
    built_before = options.output.is_dir()
    try:
        with interrupts_stop_the_build():
            report = run(options, bar)
    except KeyboardInterrupt as exc:
        print(file=sys.stderr)
        said = "build-left-to-daemon" if isinstance(exc, HandedOff) else "build-interrupted"
        print(t(said).format(output=args.output), file=sys.stderr)
        return EXIT_INTERRUPTED
    if bar is not None:
        bar.finish()
    if os.environ.get("SHOWCASE_TIMINGS"):
        print(" ".join(f"{k}={v:.3f}s" for k, v in report.stages.items()), file=sys.stderr)
    # with --strict, warnings fail the build: -q shows them then, as the reason
    print_report(report, source, args.quiet and (report.ok or not args.strict))
    if not report.ok:
        print(messages.text(report.language, "build-failed", output=args.output), file=sys.stderr)
        return EXIT_CONTENT
    if not args.quiet:
        print_done(report, args.output)
        if daemon_hint(report, built_before, cache_dir, sys.stderr.isatty()):
            seconds = f"{report.seconds:.1f}"
            output = Path(args.output)
            command = daemon_command(source, cache_dir, output) if cache_dir else ""
            hint = messages.text(
                report.language, "build-daemon-hint", command=command, seconds=seconds
            )
            print(hint, file=sys.stderr)
    return EXIT_OK


def print_done(report: BuildReport, output: str) -> None:
    """Say what a successful build made, or that nothing changed."""
    params: dict[str, Any] = {
        **report.counts,
        "pages": report.html,
        "files": report.files,
        "seconds": f"{report.seconds:.2f}",
        "output": output,
    }
    # nothing rendered or copied: the output was up to date, which is no failure
    done = "build-done" if report.pages or report.files else "build-unchanged"
    if done == "build-unchanged" and report.removed:  # files taken out, none written
        done, params["removed"] = "build-removed", report.removed
    print(messages.text(report.language, done, **params))


HINT_SECONDS = 1.0  # a build made again in this process that took longer suggests the daemon
HINT_FILE = "daemon-hint"  # in the cache folder: when the suggestion was last shown


def daemon_hint(report: BuildReport, built_before: bool, cache_dir: Path | None, tty: bool) -> bool:
    """Whether to suggest ``showcase daemon`` after ``report``: a build of an output that was
    ``built_before``, made in this process (not handed to a daemon) and slow enough, shown in a
    terminal (``tty``: scripts and CI logs are not told), at most once a day per cache (its
    time is kept in the cache folder)."""
    if not (tty and built_before and not report.handed and cache_dir is not None):
        return False
    if report.seconds < HINT_SECONDS or not report.pages:
        return False
    marker = cache_dir / HINT_FILE
    try:
        if time.time() - marker.stat().st_mtime < 24 * 3600:
            return False
    except OSError:
        pass  # never shown
    try:
        marker.touch()
    except OSError:
        return False  # not kept: it would be shown after every build
    return True


def default_output(source: Path) -> Path:
    """The output of ``source`` when ``-o`` is not given: ``public`` beside the source."""
    return parsing.beside_source(source, "public")


def daemon_command(source: Path, cache_dir: Path, output: Path) -> str:
    """The ``showcase daemon`` command for the builds of ``source`` into ``output`` with
    ``cache_dir``."""
    command = f"showcase daemon {source}"
    if output.resolve() != default_output(source).resolve():  # its first build goes there
        command += f" -o {output}"
    if cache_dir != source / CACHE_DIR:  # the daemon builds only with its own cache
        command += f" --cache-dir {cache_dir}"
    return command


class HandedOff(KeyboardInterrupt):
    """Stopped while the daemon builds: the daemon goes on, this process no longer waits."""


def run(options: BuildOptions, progress: ProgressBar | None = None) -> BuildReport:
    """The build of ``options``, or the last build's report when nothing changed since: that
    is found before the rendering stack is imported, so an up-to-date build ends at once. A
    daemon that keeps the site in memory (``showcase daemon``) makes the build when one runs."""
    started = time.perf_counter()
    try:  # a daemon that keeps this site in memory builds it
        handed = handoff.ask(options, waiting=_waiting_for_daemon, locked=_daemon_waits)
    except KeyboardInterrupt:
        raise HandedOff from None
    if handed is not None:
        return dataclasses.replace(handed, seconds=time.perf_counter() - started, handed=True)
    report = _run_here(options, progress)
    return dataclasses.replace(report, seconds=time.perf_counter() - started)


def _waiting_for_daemon() -> None:
    print(t("build-waiting-daemon"), file=sys.stderr, flush=True)


def _daemon_waits(folder: str) -> None:
    say_waiting(Path(folder))


def _run_here(options: BuildOptions, progress: ProgressBar | None) -> BuildReport:
    """The build of ``options`` in this process (see ``run``)."""
    # imported only when this process builds (a build handed to the daemon ends sooner)
    from generator.output import cache, freshness, writer

    # one build at a time into one output, or with one cache
    with writer.exclusive(options.output, options.cache_dir, say_waiting):
        store = cache.Cache.open(options.cache_dir) if options.cache_dir else cache.Cache.disabled()
        try:
            state = freshness.source_state(options, store)
            last = freshness.last_report(options, store, state)
            if last is not None:
                return last
            from generator.build import build  # imported only when there is work to do

            memory.keep_freed_pages_if_one_off()  # when this process ends after the build
            return build(options, progress, store=store, state=state)
        finally:
            store.close()


def say_waiting(folder: Path) -> None:
    """Say that the build waits for another one using ``folder`` (``writer.exclusive``)."""
    print(t("build-waiting").format(folder=folder), file=sys.stderr, flush=True)


CACHE_ENV = "SHOWCASE_CACHE_DIR"  # where the build cache goes when --cache-dir is not given


def cache_folder(args: argparse.Namespace, source: Path) -> Path | None:
    """The build cache: none with --no-cache; else --cache-dir, else $SHOWCASE_CACHE_DIR,
    else the hidden ``.showcase-cache`` folder of the source."""
    if args.no_cache:
        return None
    given = args.cache_dir or os.environ.get(CACHE_ENV, "").strip()
    return Path(given) if given else source / CACHE_DIR


def refuse_cache(problem: str, cache_dir: Path | None) -> int:
    """Say what is wrong with the cache's place (``cache_problem``) and how to fix it."""
    print(messages.text(DEFAULT_LANGUAGE, problem, folder=cache_dir), file=sys.stderr)
    fix = messages.text(DEFAULT_LANGUAGE, problem, "hint")
    print("    " + t("how-to-fix") + fix, file=sys.stderr)
    return EXIT_USAGE


def cache_problem(cache_dir: Path | None, source: Path, output: Path) -> str:
    """The catalog code of what is wrong with the cache's place ('' when nothing): inside the
    output it would be deleted by each build; inside the source, outside a hidden folder, it
    would be read as content."""
    if cache_dir is None:
        return ""
    cache, src, out = cache_dir.resolve(), source.resolve(), output.resolve()
    if cache == out or out in cache.parents:
        return "cache-dir-inside-output"
    hidden = src in cache.parents and cache.relative_to(src).parts[0].startswith(".")
    if cache == src or (src in cache.parents and not hidden):
        return "cache-dir-inside-source"
    return ""


@contextlib.contextmanager
def interrupts_stop_the_build() -> Iterator[None]:
    """Ctrl-C (SIGINT) and kill (SIGTERM) raise KeyboardInterrupt in the build process, so the
    writer's cleanup runs and the previous output stays as it was. Further signals are ignored
    while that cleanup runs; forked worker processes just exit quietly."""
    owner = os.getpid()
    watched = (signal.SIGINT, signal.SIGTERM)

    def stop(signum: int, _frame: FrameType | None) -> None:
        if os.getpid() != owner:  # a worker forked by the build: the build cleans up
            os._exit(128 + signum)
        for sig in watched:
            signal.signal(sig, signal.SIG_IGN)
        stopping.ask()  # checked again before the output is published
        raise KeyboardInterrupt

    def unraisable(info: sys.UnraisableHookArgs) -> None:
        # the handler's exception, dropped in a finalizer: not worth a traceback
        if not isinstance(info.exc_value, KeyboardInterrupt):
            hook(info)

    stopping.forget()
    previous = {sig: signal.signal(sig, stop) for sig in watched}
    hook, sys.unraisablehook = sys.unraisablehook, unraisable
    try:
        yield
    finally:
        sys.unraisablehook = hook
        stopping.forget()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
