"""The translations templates call (``_`` and ``ngettext``): the values put into a string
are escaped unless they are markup, however often the same string and values come back."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from generator.output import theme


def test_a_value_is_escaped_as_text_and_kept_as_markup_on_every_call() -> None:
    catalog = theme.Catalog({"By %(name)s": "作者：%(name)s"})
    for _ in range(3):
        assert catalog.markup_gettext("By %(name)s", name="<b>") == "作者：&lt;b&gt;"
        assert catalog.markup_gettext("By %(name)s", name=Markup("<b>")) == "作者：<b>"
        assert catalog.markup_gettext("By %(name)s", name="王强") == "作者：王强"
    assert catalog.markup_gettext("By %(name)s", name=7) == "作者：7"


def test_a_string_already_translated_is_not_translated_again() -> None:
    """``ngettext`` translates before it puts the values in; a translation that is itself a
    message of the catalog is not looked up again, whichever is called first."""
    catalog = theme.Catalog({"%(num)d item": "%(num)d 项", "%(num)d 项": "wrong"})
    assert catalog.markup_ngettext("%(num)d item", "%(num)d items", 1) == "1 项"
    assert catalog.markup_gettext("%(num)d 项", num=1) == "wrong"
    assert catalog.markup_ngettext("%(num)d item", "%(num)d items", 1) == "1 项"


def test_values_of_other_types_are_formatted_each_time() -> None:
    class Counter:
        calls = 0

        def __str__(self) -> str:
            Counter.calls += 1
            return f"第{Counter.calls}次"

    catalog = theme.Catalog({})
    value = Counter()
    assert catalog.markup_gettext("%(n)s", n=value) == "第1次"
    assert catalog.markup_gettext("%(n)s", n=value) == "第2次"


def test_the_remembered_translations_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(theme, "MEMO_LIMIT", 10)
    catalog = theme.Catalog({})
    for n in range(100):
        assert catalog.markup_gettext("%(n)d", n=n) == str(n)
    assert len(catalog._formatted) <= 10
    catalog._formatted.clear()
    long_text = "长" * (theme.MEMO_TEXT + 1)
    assert catalog.markup_gettext("%(t)s", t=long_text) == long_text
    assert catalog.markup_gettext("%(t)s", t=Markup(long_text)) == long_text
    assert not catalog._formatted  # a long text is not kept


def test_several_values_are_remembered_by_name_and_type_whatever_their_order() -> None:
    catalog = theme.Catalog({})
    text = "%(a)s-%(b)d"
    assert catalog.markup_gettext(text, a="<x>", b=1) == "&lt;x&gt;-1"
    assert catalog.markup_gettext(text, b=1, a="<x>") == "&lt;x&gt;-1"
    assert catalog.markup_gettext(text, a=Markup("<x>"), b=1) == "<x>-1"
    assert catalog.markup_gettext(text, a="<x>", b=2) == "&lt;x&gt;-2"
    assert len(catalog._formatted) == 3
    assert catalog.markup_gettext(text, a=["<x>"], b=1) == "[&#39;&lt;x&gt;&#39;]-1"
    assert len(catalog._formatted) == 3  # a list is formatted each time
