"""``showcase import``: Word documents and honour rosters to content files.

``import word`` converts each .docx into a profile or report (``generator.importing.word``),
fills in the front matter its text gives and writes its pictures next to it; ``import
roster`` turns each person of an .xlsx or .csv roster into a profile stub, as a dry run
unless ``--write``. The files are written with the rules of ``showcase new``: its scaffold
and placeholders for what is not known, its file names and slugs, never over an existing
file, and as drafts.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE
from generator.cli import import_roster, import_word
from generator.cli.import_common import EXIT_USAGE, KINDS


def t(code: str) -> str:
    return messages.text(DEFAULT_LANGUAGE, code)


def add_parser(subparsers: Any) -> None:
    """Register ``showcase import word`` and ``showcase import roster``."""
    command = subparsers.add_parser("import", help=t("cli-import"), description=t("cli-import"))
    command.set_defaults(func=_no_what, what=None, print_help=command.print_help)
    what = command.add_subparsers(dest="what", metavar=t("cli-metavar-what"))
    word = what.add_parser("word", help=t("cli-import-word"), description=t("cli-import-word"))
    word.add_argument("files", nargs="+", metavar=t("cli-metavar-docx"), help=t("cli-import-docx"))
    word.add_argument(
        "--kind", choices=KINDS, metavar=t("cli-metavar-kind"), help=t("cli-import-kind")
    )
    word.add_argument("--unit", help=t("cli-import-unit"))
    word.add_argument("--year", help=t("cli-import-year"))
    word.add_argument("--honor", action="append", default=[], help=t("cli-import-honor"))
    roster = what.add_parser(
        "roster", help=t("cli-import-roster"), description=t("cli-import-roster")
    )
    roster.add_argument("file", metavar=t("cli-metavar-table"), help=t("cli-import-table"))
    roster.add_argument("--year", help=t("cli-import-roster-year"))
    roster.add_argument("--honor", action="append", default=[], help=t("cli-import-roster-honor"))
    roster.add_argument("--write", action="store_true", help=t("cli-import-write"))
    for sub in (word, roster):
        sub.add_argument("--source", default=None, help=t("cli-import-source"))
    word.set_defaults(func=import_word.run)
    roster.set_defaults(func=import_roster.run)


def _no_what(args: argparse.Namespace) -> int:
    args.print_help(sys.stderr)
    return EXIT_USAGE
