"""What each enabled Python-Markdown extension costs on the bodies of a site.

    python3 benchmarks/markdown_cost.py [SOURCE] [--docs N] [--rounds R]

SOURCE is a site folder (default: ``site_content``; a corpus of ``../shared/make_corpus.py``
gives more bodies). The bodies of up to N content files (front matter removed) are converted
R times with each configuration; the best round is kept, as milliseconds of this process's
CPU per document:

- Python-Markdown alone, with no extension;
- with each extension of ``markup.EXTENSIONS`` alone (``extra`` split into the ones it loads);
- with all of them, as the build configures Python-Markdown;
- Python-Markdown alone again, timed as another configuration: how far the figures scatter;
- the same with what showcase's converter (``markup.Converter``) adds to Python-Markdown: the
  inline stage's fast path for plain text, links to source files, heading levels;
- showcase's converter, which also sanitises the HTML and takes its summary and plain text.

The extensions' own cost is the difference from Python-Markdown alone. Figures only: no
target is checked here.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import markdown

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from generator.content import frontmatter  # noqa: E402
from generator.output import markup  # noqa: E402

# what ``extra`` loads (Python-Markdown's extra.py)
EXTRA = ("abbr", "attr_list", "def_list", "fenced_code", "footnotes", "md_in_html", "tables")


def bodies(source: Path, limit: int) -> list[str]:
    """The bodies of up to ``limit`` Markdown files of ``source``, spread over its files."""
    files = sorted(p for p in source.rglob("*.md") if not _hidden(p.relative_to(source)))
    step = max(1, len(files) // limit)
    out = []
    for path in files[::step][:limit]:
        text = frontmatter.normalise_text(path.read_text(encoding="utf-8"))
        front, _problems = frontmatter.split(text, str(path))
        if front is not None:
            out.append(front.body)
    return out


def _hidden(rel: Path) -> bool:
    return any(part.startswith((".", "_")) for part in rel.parts) or rel.parts[0] == "themes"


def timed(
    configs: Sequence[tuple[str, Callable[[str], object]]], texts: Sequence[str], rounds: int
) -> list[float]:
    """Milliseconds per document of each configuration, the best of ``rounds``; each round
    takes the configurations in another order (a slower spell of the machine touches them
    all), after one round that is not counted (imports, compiled patterns). The collector is
    held off while a configuration is timed."""
    best = [float("inf")] * len(configs)
    order = list(range(len(configs)))
    shuffle = random.Random(0).shuffle
    for counted in [False] + [True] * rounds:
        shuffle(order)
        for n in order:
            convert = configs[n][1]
            gc.collect()
            gc.disable()
            start = time.process_time()  # this process's CPU: other processes do not count
            for text in texts:
                convert(text)
            spent = time.process_time() - start
            gc.enable()
            if counted:
                best[n] = min(best[n], spent)
    return [seconds / len(texts) * 1000 for seconds in best]


def plain(extensions: Sequence[str]) -> Callable[[str], object]:
    md = markdown.Markdown(extensions=list(extensions), output_format="html")

    def convert(text: str) -> object:
        md.reset()
        return md.convert(text)

    return convert


def configurations() -> list[tuple[str, Callable[[str], object]]]:
    enabled = [e for name in markup.EXTENSIONS for e in (EXTRA if name == "extra" else (name,))]
    out = [("Python-Markdown, no extension", plain(()))]
    out.extend((f"+ {name}", plain((name,))) for name in enabled)
    out.append((f"all: {', '.join(markup.EXTENSIONS)}", plain(markup.EXTENSIONS)))
    # the first configuration again, by another converter: how far the figures scatter
    out.append(("Python-Markdown, no extension, again (the noise)", plain(())))
    converter = markup.Converter({}, 120)
    core = converter._md  # with the fast path, the links and the headings: no sanitiser

    def markdown_only(text: str) -> object:
        core.reset()
        return core.convert(text)

    out.append(("the same, with showcase's inline fast path, links and headings", markdown_only))
    out.append(
        (
            "showcase's converter (also the sanitiser, the summary, the plain text)",
            lambda text: converter.convert(text, "a.md", "a/"),
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", nargs="?", type=Path, default=REPO / "site_content")
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    texts = bodies(args.source, max(1, args.docs))
    if not texts:
        print(f"no Markdown file with front matter in {args.source}", file=sys.stderr)
        return 1
    size = sum(len(t) for t in texts) / max(1, len(texts))
    print(f"{len(texts)} bodies of {args.source}, {size:.0f} characters each on average")
    configs = configurations()
    figures = timed(configs, texts, args.rounds)
    print("| configuration | ms per document | over no extension |\n|---|---:|---:|")
    for (label, _convert), ms in zip(configs, figures, strict=True):
        print(f"| {label} | {ms:.3f} | {ms - figures[0]:+.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
