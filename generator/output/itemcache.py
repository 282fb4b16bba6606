"""The validated items of earlier builds, kept in the cache from process to process.

A build checks every content file against its kind and makes its item (``model.build_item``).
The cache keeps each item made without errors, with the warnings found, under a digest of the
file (its kind, path, content digest and dates), of what else items are made from
(``model.lasting_context``: units, photos and attachments, kinds, settings) and of the
generator's code. The next process takes the item instead of checking the file again. The
cache holds the items of one context: when it changes (a unit renamed, a photo replaced, the
generator upgraded), the rows of the last one are dropped.

An item is kept as a JSON list of its fields' values, each converted by the type its field
declares (``_codec``): strings, numbers, booleans and None as they are, tuples as lists, dates
as ISO text, the dataclasses of photos, pledge items and reviews as lists of their fields. A
value whose type is not exactly the declared one is not kept (the file is checked again next
time), so what is read back equals what was kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any

from generator.base.errors import Diagnostic
from generator.content.loader import SourceDoc
from generator.kinds.kind import Registry
from generator.kinds.registry import BUILT_IN
from generator.output import cache
from generator.output import fingerprints as deps
from generator.site.model import FROM_SOURCE, Checked, item_of, memo_key

TABLE = "items"


class Unkept(ValueError):
    """A value (or a declared type) the item cache cannot hold."""


# a field's value to JSON and back; None for "as it is"
Convert = Callable[[Any], Any] | None
Codec = tuple[Callable[[Any], Any], Convert]


class KeptItems:
    """``model.KeptItems`` on the build's cache, for the built-in kinds."""

    def __init__(self, store: cache.Cache, kinds: Registry) -> None:
        self._store = store
        self._kinds = kinds
        self._fields = {kind.name: _model_fields(kind.model) for kind in kinds}

    @classmethod
    def of(cls, store: cache.Cache, kinds: Registry) -> KeptItems | None:
        """The kept items of ``store``; None when it keeps nothing or the kinds are not the
        built-in ones (other kinds' code is not part of the cache's key)."""
        if not store.enabled or kinds.kinds != BUILT_IN.kinds:
            return None
        try:
            return cls(store, kinds)
        except Unkept:  # a field of a type the cache cannot hold
            return None

    def load(self, context: str, docs: Sequence[SourceDoc]) -> dict[tuple[Any, ...], Checked]:
        prefix = _prefix(context)
        if self._store.get_meta(TABLE) != prefix.hex():
            # every row was made in another context (or by other code): none can serve again
            self._store.clear(TABLE)
            self._store.set_meta(TABLE, prefix.hex())
            return {}
        wanted = {_row_key(prefix, doc): doc for doc in docs}
        found: dict[tuple[Any, ...], Checked] = {}
        faces = []
        for key, row in self._store.get_many(TABLE, wanted).items():
            doc = wanted[key]
            try:
                item, problems = self._checked(doc, row)
            except (TypeError, ValueError, KeyError, AssertionError):
                continue  # a row this code cannot read: the file is checked again
            found[memo_key(doc)] = (item, problems)
            faces.append((item, str(row[2])))
        deps.known_faces(faces)
        return found

    def _checked(self, doc: SourceDoc, row: list[Any]) -> Checked:
        """The item and the problems of ``doc`` that ``save`` kept as ``row``."""
        values, problems, _face = row
        names, codecs = self._fields[doc.kind]
        decoded = [v if c[1] is None else c[1](v) for c, v in zip(codecs, values, strict=True)]
        item = item_of(self._kinds[doc.kind], doc, dict(zip(names, decoded, strict=True)))
        return item, tuple(Diagnostic.from_row(doc.path, p) for p in problems)

    def save(self, context: str, made: Sequence[tuple[SourceDoc, Checked]]) -> None:
        prefix = _prefix(context)
        rows = []
        for doc, (item, problems) in made:
            names, codecs = self._fields[doc.kind]
            try:
                values = [c[0](getattr(item, n)) for n, c in zip(names, codecs, strict=True)]
            except Unkept:
                continue
            # the face the fingerprints will ask for (and the next process too)
            face = deps.face(item)
            deps.known_faces([(item, face)])
            rows.append((_row_key(prefix, doc), [values, [p.as_row() for p in problems], face]))
        self._store.put_many(TABLE, rows)


def _model_fields(model: type) -> tuple[tuple[str, ...], tuple[Codec, ...]]:
    """The fields of a kind's model that the cache keeps, and the codec of each."""
    hints = typing.get_type_hints(model)
    names = tuple(f.name for f in dataclasses.fields(model) if f.init and f.name not in FROM_SOURCE)
    return names, tuple(_codec(hints[name]) for name in names)


def _codec(hint: Any) -> Codec:
    """How a value of the declared type ``hint`` is kept, and read back."""
    if hint in (str, int, bool):
        return _exactly(hint), None
    if hint is dt.date:
        return _date, dt.date.fromisoformat
    args = typing.get_args(hint)
    if isinstance(hint, types.UnionType) and len(args) == 2 and type(None) in args:
        return _optional(_codec(next(a for a in args if a is not type(None))))
    if typing.get_origin(hint) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return _tuple(_codec(args[0]))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint)
    raise Unkept(repr(hint))


def _exactly(kind: type) -> Callable[[Any], Any]:
    def out(value: Any) -> Any:
        if type(value) is not kind:
            raise Unkept(type(value).__name__)
        return value

    return out


def _date(value: Any) -> str:
    if type(value) is not dt.date:
        raise Unkept(type(value).__name__)
    return value.isoformat()


def _optional(inner: Codec) -> Codec:
    out, back = inner
    if back is None:
        return (lambda v: None if v is None else out(v)), None
    return (lambda v: None if v is None else out(v)), (lambda v: None if v is None else back(v))


def _tuple(inner: Codec) -> Codec:
    out, back = inner

    def kept(value: Any) -> list[Any]:
        if type(value) is not tuple:
            raise Unkept(type(value).__name__)
        return [out(v) for v in value]

    if back is None:
        return kept, tuple
    convert = back
    return kept, lambda v: tuple(map(convert, v))


def _dataclass(model: type) -> Codec:
    hints = typing.get_type_hints(model)
    names = tuple(f.name for f in dataclasses.fields(model) if f.init)
    codecs = [_codec(hints[name]) for name in names]

    def out(value: Any) -> list[Any]:
        if type(value) is not model:
            raise Unkept(type(value).__name__)
        return [c[0](getattr(value, n)) for n, c in zip(names, codecs, strict=True)]

    def back(values: list[Any]) -> Any:
        decoded = [v if c[1] is None else c[1](v) for c, v in zip(codecs, values, strict=True)]
        return model(**dict(zip(names, decoded, strict=True)))

    return out, back


def _prefix(context: str) -> bytes:
    """The digest of what every kept item of this build is made from besides its file."""
    return hashlib.sha256(f"{cache.code_digest()}\0{context}".encode()).digest()


def _row_key(prefix: bytes, doc: SourceDoc) -> str:
    digest = hashlib.sha256(prefix)
    digest.update(repr(memo_key(doc)).encode("utf-8"))
    return digest.hexdigest()[:32]
