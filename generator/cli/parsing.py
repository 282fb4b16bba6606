"""The argument parser of every command, worded by the editor catalog.

argparse writes its own English ("usage:", "options", "show this help message and exit",
"error: unrecognized arguments …"). ``Parser`` replaces each of them: the help option and the
section titles are added with catalog wording, usage starts with the catalog's prefix, and an
error message of argparse is matched against the patterns below and worded by the catalog,
with the usage and a pointer to ``--help``. Every command also gets ``-v/--verbose`` and
``-q/--quiet`` (``add_verbosity``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Any, NoReturn

from generator.base import messages
from generator.base.config import DEFAULT_LANGUAGE

EXIT_USAGE = 2

# argparse's error messages (as formatted by Python 3.11 to 3.13) and the catalog entry that
# words each; the named groups fill the entry
ERRORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), code)
    for pattern, code in (
        (r"^unrecognized arguments: (?P<args>.*)$", "cli-error-unrecognized"),
        (r"^the following arguments are required: (?P<args>.*)$", "cli-error-required"),
        (
            r"^argument (?P<arg>\S+): invalid choice: '?(?P<value>.*?)'?"
            r" \(choose from (?P<choices>.*)\)$",
            "cli-error-choice",
        ),
        (r"^argument (?P<arg>\S+): expected (one|at least one) argument$", "cli-error-value"),
        (r"^argument (?P<arg>\S+): expected \d+ arguments?$", "cli-error-value"),
        (r"^argument (?P<arg>\S+): expected at most one argument$", "cli-error-no-value"),
        (r"^argument (?P<arg>\S+): ignored explicit argument '(?P<v>.*)'$", "cli-error-no-value"),
        (
            r"^argument (?P<arg>\S+): invalid (?P<type>\w+) value: '(?P<value>.*)'$",
            "cli-error-invalid-value",
        ),
        (r"^ambiguous option: (?P<arg>\S+) could match (?P<choices>.*)$", "cli-error-ambiguous"),
        (r"^argument (?P<arg>\S+): not allowed with argument (?P<o>\S+)$", "cli-error-together"),
        # a value refused with a message of the catalog (argparse.ArgumentTypeError): last
        (r"^argument (?P<arg>\S+): (?P<said>.*)$", "cli-error-said"),
    )
)


def t(code: str, **params: Any) -> str:
    return messages.text(DEFAULT_LANGUAGE, code, **params)


def translate(message: str) -> str:
    """An argparse error message in the catalog's words (as it is when no pattern matches)."""
    for pattern, code in ERRORS:
        match = pattern.match(message)
        if match:
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            return t(code, **params)
    return message


class Formatter(argparse.HelpFormatter):
    """Help text with the catalog's usage prefix."""

    def add_usage(
        self,
        usage: str | None,
        actions: Any,
        groups: Any,
        prefix: str | None = None,
    ) -> None:
        super().add_usage(usage, actions, groups, t("cli-usage") if prefix is None else prefix)

    def _get_default_metavar_for_optional(self, action: argparse.Action) -> str:
        """The placeholder of an option's value in the catalog's words (``-o 输出位置``)."""
        try:
            return t(f"cli-metavar-{action.dest}")
        except KeyError:
            return t("cli-metavar-value")


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose every word comes from the catalog."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", Formatter)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = t("cli-positionals")
        self._optionals.title = t("cli-options")
        if add_help:
            self.add_argument("-h", "--help", action="help", help=t("cli-help"))

    def format_usage(self) -> str:
        formatter = self._get_formatter()
        formatter.add_usage(self.usage, self._actions, self._mutually_exclusive_groups)
        return formatter.format_help()

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        words = translate(message)
        self.exit(EXIT_USAGE, t("cli-error", prog=self.prog, message=words) + "\n")


def add_verbosity(parser: argparse.ArgumentParser) -> None:
    """-v/--verbose and -q/--quiet, unless the command has them already."""
    known = parser._option_string_actions
    if "--verbose" not in known:
        parser.add_argument("-v", "--verbose", action="store_true", help=t("cli-verbose"))
    if "--quiet" not in known:
        parser.add_argument("-q", "--quiet", action="store_true", help=t("cli-quiet"))


def every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """``parser`` and every sub-command parser below it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                found.extend(every_parser(sub))
    return found


def command_parser(
    parser: argparse.ArgumentParser, name: str | None
) -> argparse.ArgumentParser | None:
    """The parser of the sub-command ``name`` of ``parser``; None when it has none so named."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            found: argparse.ArgumentParser | None = action.choices.get(name or "")
            return found
    return None


DEFAULT_SOURCE = "site_content"
SITE_FILE = "site.yaml"


def source_folder(given: str | None) -> Path:
    """The source folder of a command: as given; else ``site_content``, or the current folder
    when it holds site.yaml itself (the editor stands inside the source folder)."""
    if given:
        return Path(given)
    here = Path.cwd()
    if (here / SITE_FILE).is_file() and not (here / DEFAULT_SOURCE / SITE_FILE).is_file():
        return Path(".")
    return Path(DEFAULT_SOURCE)


def beside_source(source: Path, name: str) -> Path:
    """Where an output named ``name`` goes by default: next to the source folder (the
    repository root when the source is ``site_content``), so never inside the source."""
    target = source.absolute().resolve().parent / name
    try:  # ../public from inside the source folder
        return Path(os.path.relpath(target, Path.cwd()))
    except ValueError:  # another drive on Windows
        return target
