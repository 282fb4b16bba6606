"""What rendering the pages of a site costs in templates, per template and for the whole site.

    python3 benchmarks/render_cost.py [SOURCE] [--pages N] [--rounds R]

SOURCE is a site folder (default: ``site_content``; a corpus of ``../shared/make_corpus.py``
gives a large site). The site is analysed and every body converted in this process; then up
to N pages of each template, spread over its pages, are rendered R times as a build renders
them (``render.render``: the theme's environment, the site view recording what each page
reads), in one process, writing nothing. The best round is kept, as milliseconds of this
process's CPU per page, and multiplied by the template's page count for the whole site.

What a build adds around this (the worker processes, writing the files, reading bodies back
from the cache, the records) is not counted: the figures are for changes to templates and to
what they call. A digest of the pages made (their bytes and reads) is printed, so that a
change meant to keep the output can be checked to keep it. Figures only: no target is
checked here.
"""

from __future__ import annotations

import argparse
import collections
import gc
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator import build, pages  # noqa: E402
from generator.base.errors import has_errors  # noqa: E402
from generator.output import render  # noqa: E402
from generator.pages.base import PageJob  # noqa: E402
from generator.pages.view import SiteView  # noqa: E402
from generator.site.bodies import Rendered  # noqa: E402

Bodies = dict[str, Rendered]
Chosen = dict[str, list[PageJob]]  # template -> the pages of it rendered


def timed(
    env: Any, view: SiteView, bodies: Bodies, chosen: Chosen, rounds: int
) -> dict[str, float]:
    """Milliseconds of CPU per page of each template, the best of ``rounds`` (after one
    round that is not counted: compiled templates, memos), the collector held off."""
    best: dict[str, float] = {}
    for counted in [False] + [True] * rounds:
        for template, jobs in chosen.items():
            gc.collect()
            gc.disable()
            start = time.process_time()
            for job in jobs:
                render.render(env, job, view, bodies)
            spent = (time.process_time() - start) / len(jobs) * 1000
            gc.enable()
            if counted:
                best[template] = min(best.get(template, spent), spent)
    return best


def digest(env: Any, view: SiteView, bodies: Bodies, chosen: Chosen) -> str:
    """A digest of the chosen pages' bytes and reads (the reads sorted: a set's order is
    not the same from one process to the next)."""
    made = hashlib.sha256()
    for jobs in chosen.values():
        for job in jobs:
            page = render.render(env, job, view, bodies)
            made.update(page.data)
            made.update(repr(sorted(map(repr, page.reads))).encode())
    return made.hexdigest()[:16]


def spread(jobs: Sequence[PageJob], count: int) -> list[PageJob]:
    """Up to ``count`` of ``jobs``, spread over them."""
    return list(jobs[:: max(1, len(jobs) // count)][:count])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=REPO / "site_content")
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    analysis = build.analyse(args.source, workers=1)
    if analysis.theme is None or has_errors(analysis.diagnostics):
        print(f"{args.source}: the site has errors or no theme (run showcase check)")
        return 1
    site, plan = analysis.site, analysis.plan
    converter = build.markdown_converter(site, plan)
    bodies = {
        item.key: converter.convert(item.body, item.key, plan.items[item.key])
        for item in site.all_items()
    }
    view = SiteView(site, plan, bodies)
    extra = {"photo_variants": view.photo_variants}
    env = build.render_environment(analysis.theme, site.config.language, view, plan, extra)
    by_template: dict[str, list[PageJob]] = collections.defaultdict(list)
    for job in pages.pages(site, plan):
        by_template[job.template].append(job)
    chosen = {name: spread(jobs, max(1, args.pages)) for name, jobs in by_template.items()}
    best = timed(env, view, bodies, chosen, max(1, args.rounds))
    whole = {name: best[name] * len(jobs) / 1000 for name, jobs in by_template.items()}
    print(f"{sum(map(len, by_template.values()))} pages of {args.source}")
    print("| template | pages | ms per page | s for the site |\n|---|---:|---:|---:|")
    for name in sorted(whole, key=whole.__getitem__, reverse=True):
        pages_of = len(by_template[name])
        print(f"| {name} | {pages_of} | {best[name]:.3f} | {whole[name]:.2f} |")
    print(f"| all | | | {sum(whole.values()):.2f} |")
    print(f"digest of the pages rendered: {digest(env, view, bodies, chosen)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
