"""The cheaper Jinja runtime of the theme environments gives what Jinja's own gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import jinja2.sandbox
import jinja2.utils
import pytest
from markupsafe import Markup

from generator.output import jinjaruntime, theme

OPTIONS: dict[str, Any] = {
    "autoescape": True,
    "undefined": jinja2.StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
}

# every way a template calls and outputs that the runtime touches
TEMPLATE = """\
{% macro card(name, obj=none) %}<b>{{ name }}</b>{{ obj }}{% endmacro %}
{{ card("<x>", obj=markup) }} {{ named(self="s&", obj="<o>") }}
{% for x in items %}{{ loop_var() }} {{ card(x) }} {{ plain(x) }} {{ env_name() }}{% endfor %}
{% set kept = [] %}{% for x in items %}{% if kept.append(x) %}{% endif %}{% endfor %}{{ kept }}
{% set block %}{{ "<i>" }}{{ markup }}{% endset %}{{ block }}|{{ block|length }}
{% filter upper %}{{ "<a>" }} {{ markup }}{% endfilter %}
{% autoescape false %}{{ "<raw>" }}{% endautoescape %}
{{ 5 }} {{ 2.5 }} {{ none }} {{ html_object }} {{ markup ~ "<" }} {{ call_me() }}
{{ stopping() is undefined }} {{ plain("<y>") ~ card("z") }} {{ eval_escape("<q>") }}
{{ "%s" % markup }} {{ [markup, "<"]|join(",") }} {{ {"k": "<v>"}.get("k") }}
{% autoescape false %}{{ card("<m>")|e }} {{ card("<n>") }}{% endautoescape %}
{% autoescape off_flag %}{{ raw_text }}{{ card("<o>")|e }}{% endautoescape %}
{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}<i>{{ "<c>" }}</i>{% endcall %}
{% autoescape false %}{% call wrap() %}<i>{{ "<d>" }}</i>{% endcall %}{% endautoescape %}
{% block one %}{% set y = "<y>" %}{{ plain(y) }} {{ helper.where() }}{{ helper.plain(y) }}
{% endblock %}
{% for x in items %}{{ helper.where() }}{% endfor %}
"""


class Html:
    def __html__(self) -> str:
        return "<em>as html</em>"


class CallMe:
    @jinja2.pass_context
    def __call__(self, ctx: Any) -> str:
        return f"called in {ctx.name}"


class Helper:
    @jinja2.pass_context
    def where(self, ctx: Any) -> str:
        return f"<{ctx.name}:{ctx.get('y')}>"

    def plain(self, value: str) -> str:
        return f"({value})"


@jinja2.pass_context
def loop_var(ctx: Any) -> str:
    return f"<{ctx.get('x')}>"


@jinja2.pass_environment
def env_name(env: jinja2.Environment) -> str:
    return "env" if isinstance(env, jinja2.Environment) else "?"


@jinja2.pass_eval_context
def eval_escape(eval_ctx: Any, text: str) -> str:
    return "auto" if eval_ctx.autoescape else text


def stopping() -> None:
    raise StopIteration


@jinja2.sandbox.unsafe
def unsafe_call() -> str:
    return "ran"


def _globals() -> dict[str, Any]:
    return {
        "items": ["a<", "b&"],
        "markup": Markup("<s>kept</s>"),
        "html_object": Html(),
        "plain": lambda value: f"[{value}]",
        "named": lambda self, obj: f"{self}{obj}",
        "loop_var": loop_var,
        "env_name": env_name,
        "eval_escape": eval_escape,
        "call_me": CallMe(),
        "stopping": stopping,
        "helper": Helper(),
        "off_flag": False,
        "raw_text": "<volatile>",
    }


Fast = theme.TrustedEnvironment


def _render(kind: type[jinja2.Environment]) -> str:
    env = kind(**OPTIONS)
    env.globals.update(_globals())
    return env.from_string(TEMPLATE).render()


def test_pages_render_as_with_jinjas_own_runtime() -> None:
    ours, jinjas = _render(Fast), _render(jinja2.Environment)
    assert ours == jinjas
    assert "<b>&lt;x&gt;</b><s>kept</s> s&amp;&lt;o&gt;" in ours and "<volatile>" in ours


def test_the_sandbox_renders_as_jinjas_own_sandbox() -> None:
    assert _render(theme.SafeEnvironment) == _render(jinja2.sandbox.SandboxedEnvironment)


@pytest.mark.parametrize(
    "source",
    [
        "{{ fmt.format(items) }}",  # str.format reaching internals
        "{{ named.format_map({'x': items}) }}",
        "{{ unsafe_call() }}",  # marked unsafe
    ],
)
def test_the_sandbox_still_refuses_unsafe_calls(source: str) -> None:
    env = theme.SafeEnvironment(**OPTIONS)
    env.globals.update(_globals(), unsafe_call=unsafe_call)
    env.globals.update(fmt="{0.__class__.__mro__}", named="{x.__class__.__mro__}")
    with pytest.raises(jinja2.exceptions.SecurityError):
        env.from_string(source).render()


def test_a_plain_callable_is_called_without_asking_what_it_takes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[Any] = []
    original = jinja2.utils._PassArg.from_obj

    def from_obj(obj: Any) -> Any:
        asked.append(obj)
        return original(obj)

    monkeypatch.setattr(jinja2.utils._PassArg, "from_obj", staticmethod(from_obj))
    env = Fast(**OPTIONS)
    env.globals.update(_globals())
    page = env.from_string(
        "{% macro m() %}m{% endmacro %}{{ m() }}{{ plain(1) }}{{ items.append(3) }}{{ lv() }}"
    )
    assert page.render(lv=loop_var) == "m[1]None&lt;None&gt;"
    # only the function marked to take the context is asked (itself and its __call__)
    assert {getattr(obj, "__self__", obj) for obj in asked} == {loop_var}


def test_output_is_escaped_by_the_runtime_and_markup_kept_as_it_is() -> None:
    env = Fast(**OPTIONS)
    code = env.compile("{{ a }}{% autoescape false %}{{ b }}{% endautoescape %}", raw=True)
    assert code.count("environment.escape_output(") == 1 and "str(" in code
    kept = Markup("<b>x</b>")
    assert jinjaruntime.escape_output(kept) is kept
    assert jinjaruntime.escape_output("<&>") == "&lt;&amp;&gt;"
    assert jinjaruntime.escape_output(Html()) == "<em>as html</em>"
    with pytest.raises(jinja2.UndefinedError):
        jinjaruntime.escape_output(jinja2.StrictUndefined(name="missing"))


def test_a_templates_globals_are_a_dict_holding_the_environments() -> None:
    env = Fast(**OPTIONS)
    env.globals["site_name"] = "示例"
    template = env.from_string("{{ site_name }}{{ own }}", globals={"own": "!"})
    assert type(template.globals) is dict
    assert template.globals["site_name"] == "示例" and "own" not in env.globals
    assert template.render() == "示例!"


def test_a_themes_templates_are_read_once_per_environment(tmp_path: Path) -> None:
    page = tmp_path / "mine" / "templates" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text("first", encoding="utf-8")
    dirs = theme.ThemeDirs((tmp_path / "mine",), "mine", sandboxed=True)
    env = theme.environment(dirs, "zh-CN")
    assert env.get_template("page.html").render() == "first"
    page.write_text("second, and longer", encoding="utf-8")
    assert env.get_template("page.html").render() == "first"
    again = theme.environment(dirs, "zh-CN")
    assert again.get_template("page.html").render() == "second, and longer"
