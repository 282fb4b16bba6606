"""Pinyin readings kept in the build cache: a build gives ``hanzi`` the readings an earlier
build found, so that pypinyin (its dictionaries take a second to load) is asked only for new
text; the readings it gave are added for the next build. Kept with the code's digest: other
code (another conversion) asks again."""

from __future__ import annotations

import json

from generator.base import hanzi
from generator.output import cache

PINYIN = "pinyin"  # meta key: the readings pypinyin gave, by text (JSON)


def load(store: cache.Cache) -> None:
    """Give ``hanzi`` the readings the cache keeps (once per cache, which serve keeps open),
    so that pypinyin (its dictionaries take a second to load) is asked only for new text."""
    loaded = store.memory("pinyin")
    if loaded is not None and loaded:
        return
    hanzi.remember_readings(_stored(store))
    if loaded is not None:
        loaded[PINYIN] = True


def keep(store: cache.Cache) -> None:
    """Add the readings pypinyin gave in this build to those the cache keeps."""
    new = hanzi.learned_readings()
    if new and store.enabled:
        kept = _stored(store)
        kept.update(new)
        text = json.dumps([cache.code_digest(), kept], ensure_ascii=False, sort_keys=True)
        store.set_meta(PINYIN, text)


def _stored(store: cache.Cache) -> dict[str, hanzi.Readings]:
    """The readings the cache keeps, when this code wrote them (else none)."""
    try:
        code, kept = json.loads(store.get_meta(PINYIN) or "[]") or ["", {}]
        if code != cache.code_digest():
            return {}
        return {
            str(text): (tuple(map(str, toned)), tuple(map(str, plain)))
            for text, (toned, plain) in kept.items()
        }
    except (ValueError, TypeError, AttributeError):
        return {}  # not what this code writes: asked again
