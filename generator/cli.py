"""The ``showcase`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from generator import __version__, checks, messages, reporting, scaffold, serve
from generator.build import BuildReport, build
from generator.config import DEFAULT_LANGUAGE, BuildOptions

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="showcase", description=t("cli-description"))
    p.add_argument("--version", action="version", version=f"showcase {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    b = sub.add_parser("build", help=t("cli-build"), description=t("cli-build"))
    b.add_argument("source", nargs="?", default="site_content", help=t("cli-source"))
    b.add_argument("-o", "--output", default="public", help=t("cli-output"))
    b.add_argument("--drafts", action="store_true", help=t("cli-drafts"))
    b.add_argument("--strict", action="store_true", help=t("cli-strict"))
    b.add_argument("-q", "--quiet", action="store_true", help=t("cli-quiet"))
    b.set_defaults(func=cmd_build)
    scaffold.add_parser(sub)
    checks.add_parser(sub)
    # Other commands register here: each module's add_parser(sub) sets func=<handler>, a
    # function (args: argparse.Namespace) -> int exit code.
    serve.add_parser(sub)
    return p


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
        print(messages.text(DEFAULT_LANGUAGE, "source-missing", path=source), file=sys.stderr)
        return EXIT_USAGE
    options = BuildOptions(
        source=source,
        output=Path(args.output),
        drafts=args.drafts,
        strict=args.strict,
        quiet=args.quiet,
    )
    report = build(options)
    print_report(report, source, args.quiet)
    if not report.ok:
        print(messages.text(report.language, "build-failed", output=args.output), file=sys.stderr)
        return EXIT_CONTENT
    if not args.quiet:
        params = {
            **report.counts,
            "pages": report.pages,
            "files": report.files,
            "seconds": f"{report.seconds:.2f}",
            "output": args.output,
        }
        print(messages.text(report.language, "build-done", **params))
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help(sys.stderr)
        return EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.func
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
