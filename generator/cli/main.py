"""The ``showcase`` command line: the parser of every command and the dispatch to the command
modules of this package (one module per command)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from generator import __version__
from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import build, check, compile, edition, new, serve
from generator.cli.build import EXIT_USAGE


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="showcase", description=t("cli-description"))
    p.add_argument("--version", action="version", version=f"showcase {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    # each command module's add_parser(sub) sets func=<handler>, a function
    # (args: argparse.Namespace) -> int exit code
    for command in (build, new, check, serve, compile, edition):
        command.add_parser(sub)
    return p


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
