"""What ``showcase import word`` and ``showcase import roster`` share: the site they write
into, how their notes are printed, and the drafts they write with the rules of ``new``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from generator import build
from generator.base import messages
from generator.cli import console, new, parsing
from generator.content.settings import SiteConfig
from generator.importing.problems import Note
from generator.site import model

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
KINDS = ("profile", "report")


@dataclass(frozen=True, slots=True)
class Context:
    """The site an import writes into, read once."""

    source: Path
    site: model.Site
    config: SiteConfig
    language: str
    today: dt.date

    @property
    def units(self) -> Mapping[str, model.Unit]:
        return self.site.unit_by_id

    def default_year(self) -> int:
        return self.config.current_year or self.today.year


def context(source: Path) -> Context:
    """Read the site; ``new.Stop`` when there is no site folder or no unit."""
    if not source.is_dir():
        raise new.Stop(EXIT_USAGE, "import-source-missing", path=source)
    modelled = build.model_site(source, drafts=True)
    config = model.build_config(modelled.tree, [])
    if not modelled.site.unit_by_id:
        raise new.Stop(EXIT_FAILED, "import-no-units")
    return Context(source, modelled.site, config, config.language, dt.date.today())


def candidates(ids: Sequence[str], units: Mapping[str, model.Unit], language: str) -> str:
    """Units as an editor reads them: 第一采油厂采油二队党支部（caiyou-1-zhibu-2）、…"""
    separator = messages.text(language, "new-list-separator")
    return separator.join(
        messages.text(language, "import-unit-candidate", name=units[uid].name, id=uid)
        for uid in ids
        if uid in units
    )


def report(note: Note, ctx: Context, severity: str) -> None:
    """Print one note, its candidate units named."""
    params = dict(note.params)
    extra_hint = str(params.pop("extra_hint", ""))
    if "candidates" in params:
        params["candidates"] = candidates(params["candidates"], ctx.units, ctx.language)
    new.print_problem(ctx.language, note.code, extra_hint, params, severity)


def stop_note(stop: new.Stop) -> Note:
    """A ``new`` refusal as a note (its extra hint, a suggestion, kept)."""
    code = "import-file-exists" if stop.code.startswith("new-file-exists") else stop.code
    return Note(code, {**stop.params, "extra_hint": stop.extra_hint})


# notes of new.settle whose hint names an option of new that import does not have
SETTLE_NOTES = {"new-slug-changed": "import-slug-changed"}


def settle_notes(found: Sequence[tuple[str, dict[str, Any]]]) -> list[Note]:
    """The notes of ``new.settle`` in the words of an import."""
    return [Note(SETTLE_NOTES.get(code, code), params) for code, params in found]


def placeholder(language: str, field: str) -> str:
    """The bracketed note written where a value is not known (found again by ``check``)."""
    return messages.text(language, f"new-placeholder-{field}")


def honor_lines(honors: Sequence[str], language: str) -> str:
    entries = list(honors) or [placeholder(language, "honor")]
    return "\n".join(f"  - {new.scalar(h)}" for h in entries)


def unique(draft: new.Draft, taken: set[str], source: Path) -> new.Draft:
    """A draft whose file name no other draft of the same import has, nor an existing file:
    a number is added to the slug as ``new`` does for an existing page."""
    if draft.rel not in taken:
        taken.add(draft.rel)
        return draft
    number = 2
    while (
        f"{draft.folder}/{draft.slug}-{number}.md" in taken
        or (source / draft.folder / f"{draft.slug}-{number}.md").exists()
    ):
        number += 1
    settled = replace(draft, slug=f"{draft.slug}-{number}", explicit=True)
    taken.add(settled.rel)
    return settled


def write_failed(problem: new.Stop | OSError, ctx: Context) -> None:
    """A file that could not be written after all (created meanwhile, a full disk, no
    permission): what was written before it stays, and the editor is told which."""
    if isinstance(problem, new.Stop):
        report(stop_note(problem), ctx, "severity-error")
        return
    path = Path(problem.filename).as_posix() if problem.filename else str(ctx.source)
    report(
        Note(
            "import-write-failed",
            {"path": path, "reason": messages.os_reason(ctx.language, problem)},
        ),
        ctx,
        "severity-error",
    )


def next_step(ctx: Context) -> None:
    """What to do after an import: check the drafts (the command as it can be pasted)."""
    same = ctx.source == parsing.source_folder(None)
    command = "showcase check" if same else f"showcase check {console.pasteable(ctx.source)}"
    console.say(messages.text(ctx.language, "import-next-step", command=command))
