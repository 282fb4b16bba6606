"""The ``showcase`` command line: the parser of every command and the dispatch to the command
modules of this package (one module per command)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from generator import __version__
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import (
    build,
    check,
    compile,
    console,
    edition,
    imports,
    new,
    parsing,
    serve,
)
from generator.cli.build import EXIT_USAGE


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def parser() -> argparse.ArgumentParser:
    p = parsing.Parser(prog="showcase", description=t("cli-description"))
    p.add_argument(
        "--version", action="version", version=f"showcase {__version__}", help=t("cli-version")
    )
    sub = p.add_subparsers(dest="command", metavar=t("cli-metavar-command"))
    # each command module's add_parser(sub) sets func=<handler>, a function
    # (args: argparse.Namespace) -> int exit code
    for command in (build, new, check, serve, compile, edition, imports):
        command.add_parser(sub)
    for command_parser in parsing.every_parser(p)[1:]:
        parsing.add_verbosity(command_parser)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help(sys.stderr)
        return EXIT_USAGE
    console.configure(verbose=args.verbose, quiet=args.quiet)
    if hasattr(args, "source"):  # every command takes the source folder the same way
        given = args.source or getattr(args, "source_option", None)
        args.source = str(parsing.source_folder(given))
    handler: Callable[[argparse.Namespace], int] = args.func
    return handler(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
