"""The ``showcase`` command line: the parser of every command and the dispatch to the command
modules of this package (one module per command)."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

from generator import __version__
from generator.base import memory, messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import console, parsing
from generator.cli.build import EXIT_USAGE

INTERRUPTED = 130  # the exit code of a command stopped by Ctrl-C
INTERNAL_ERROR = 70  # the exit code of a fault of showcase itself (sysexits' EX_SOFTWARE)

# the commands, in the order help lists them, and their modules in generator.cli
COMMANDS = {
    "build": "build",
    "new": "new",
    "check": "check",
    "serve": "serve",
    "daemon": "daemon",
    "compile": "compile",
    "edition": "edition",
    "import": "imports",
}


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def command_modules(argv: Sequence[str] | None) -> list[ModuleType]:
    """The modules of the commands the parser needs: only the command named on the line (so
    that ``showcase build`` does not import what ``serve`` or ``compile`` need), or all of
    them for help, the version and a mistyped command."""
    first = argv[0] if argv else None
    names = [COMMANDS[first]] if first in COMMANDS else list(COMMANDS.values())
    return [importlib.import_module(f"generator.cli.{name}") for name in names]


def parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser; with ``argv``, only the commands it needs (see
    ``command_modules``)."""
    p = parsing.Parser(prog="showcase", description=t("cli-description"))
    p.add_argument(
        "--version", action="version", version=f"showcase {__version__}", help=t("cli-version")
    )
    sub = p.add_subparsers(dest="command", metavar=t("cli-metavar-command"))
    # each command module's add_parser(sub) sets func=<handler>, a function
    # (args: argparse.Namespace) -> int exit code
    for command in command_modules(argv):
        command.add_parser(sub)
    for command_parser in parsing.every_parser(p)[1:]:
        parsing.add_verbosity(command_parser)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    p = parser(argv)
    args = _parsed(p, argv)
    if args.command is None:
        p.print_help(sys.stderr)
        return EXIT_USAGE
    console.configure(verbose=args.verbose, quiet=args.quiet)
    if hasattr(args, "source"):  # every command takes the source folder the same way
        given = args.source or getattr(args, "source_option", None)
        args.source = str(parsing.source_folder(given))
    handler: Callable[[argparse.Namespace], int] = args.func
    return handler(args)


def _parsed(p: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """``argv`` parsed. The source folder may also follow the options of a command that
    takes another argument before it (``showcase compile 2025 --format html my_site``), where
    argparse would have given the folder's place to nothing: any other argument left over is
    refused, as ``parse_args`` refuses it."""
    args, extras = p.parse_known_args(argv)
    free = getattr(args, "source", 0) is None and getattr(args, "source_option", None) is None
    if len(extras) == 1 and not extras[0].startswith("-") and free and _folder_last(p, args):
        args.source = extras[0]
        return args
    return p.parse_args(argv) if extras else args


def _folder_last(p: argparse.ArgumentParser, args: argparse.Namespace) -> bool:
    """Whether the command of ``args`` takes the source folder as its last positional
    argument, after another one (``compile YEAR [FOLDER]``), not as an option only."""
    command = parsing.command_parser(p, args.command)
    positional = [a.dest for a in command._actions if not a.option_strings] if command else []
    return len(positional) > 1 and positional[-1] == "source"


def run() -> None:
    """The ``showcase`` command: ``main``, then the exit without the interpreter's teardown.
    A build leaves millions of objects, and freeing them one by one at exit took longer than
    a one-edit build's rendering (0.25 s at 10,000 documents, 0.9 s after a cold build). The
    exit handlers still run (temporary folders, worker processes), and the output is flushed;
    threads still running are not waited for (every command has joined its own by then)."""
    memory.mark_one_off()  # the process ends after this command: a build may keep freed pages
    code = guarded()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (showcase build | head -1)
            stream.flush()
    os._exit(code)


def guarded(argv: Sequence[str] | None = None) -> int:
    """``main``, its exit code when it fails: Ctrl-C before the command handles it (while it
    starts), or a fault of the tool, said in words with its traceback kept in a file."""
    try:
        return main(argv)
    except KeyboardInterrupt:
        return INTERRUPTED
    except Exception as exc:
        print(console.internal_error(exc), file=sys.stderr)
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    run()
