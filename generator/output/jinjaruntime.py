"""Jinja's runtime made cheaper for pages that call helpers and macros thousands of times.

A page of the default theme makes hundreds of calls, outputs and imports. Three of Jinja's
general paths cost more than the work they wrap, and each is replaced here by one that gives
templates the same results:

- calls: ``Context.call`` asks every callable, with three attribute lookups, whether it
  wants the context, the evaluation context or the environment passed in. A plain function,
  a method of a plain function or a builtin is called straight away, and a macro with the
  evaluation context, as Jinja passes it (``FastContext``); anything else takes Jinja's own
  path.
- output: ``{{ value }}`` in an autoescaped template made a Markup of every value, copying a
  Markup (a macro's output, a translation) once more. Output is joined into the page, a macro
  or a block, so a str is escaped by markupsafe's C code alone and a Markup is kept as it is
  (``escape_output``, written into compiled templates by ``CodeGenerator``).
- globals: a template's globals are a dict holding the environment's, not a ChainMap over
  them, so starting a page and importing macros do not walk a ChainMap in Python. Every
  global is set before a template loads (``theme.environment``).
"""

from __future__ import annotations

from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

import jinja2
import jinja2.compiler
import jinja2.nodes
import jinja2.runtime
import markupsafe
from jinja2.utils import internalcode
from markupsafe import Markup, escape

# the C function behind markupsafe's ``escape`` (markupsafe 3), giving a str; before that,
# ``escape`` itself was C
_escape_text: Callable[[str], str] = getattr(markupsafe, "_escape_inner", escape)

PASS_ARG = "jinja_pass_arg"  # what ``jinja2.pass_context`` and its kin set on a function
Macro = jinja2.runtime.Macro  # called with the evaluation context (its autoescape mode)


def escape_output(value: Any) -> str:
    """What ``{{ value }}`` writes in an autoescaped template: a str escaped, a Markup as it
    is, anything else as markupsafe's ``escape`` gives it."""
    kind = type(value)
    if kind is str:
        return _escape_text(value)
    if kind is Markup:
        return value  # type: ignore[no-any-return]
    return escape(value)


def _is_plain(obj: Any) -> bool:
    """Whether Jinja would call ``obj`` with the arguments alone: a function or a method of
    one not marked to be passed anything, a builtin."""
    kind = type(obj)
    if kind is MethodType:
        obj = obj.__func__
        kind = type(obj)
    if kind is FunctionType:
        return PASS_ARG not in obj.__dict__
    return kind is BuiltinFunctionType


class FastContext(jinja2.runtime.Context):
    """Jinja's context, calling plain callables and macros without asking what they want
    passed."""

    @internalcode
    def call(self, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        if type(obj) is Macro:  # its __call__ takes the evaluation context
            args = (self.eval_ctx, *args)
        elif not _is_plain(obj):
            return super().call(obj, *args, **kwargs)
        if kwargs:  # what Jinja passes for callables that take the context
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
        try:
            return obj(*args, **kwargs)
        except StopIteration:  # as Jinja does: a value that is not there
            return self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class CodeGenerator(jinja2.compiler.CodeGenerator):
    """Jinja's compiler, writing output in autoescaped templates through ``escape_output``."""

    def _output_child_pre(self, node: Any, frame: jinja2.compiler.Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        self.write("environment.escape_output(")
        if finalize.src is not None:
            self.write(finalize.src)


class ContentCodeGenerator(CodeGenerator):
    """The compiler of a site's own templates: no expression is computed while it compiles
    (Jinja computes a filter of plain values then, ``{{ "x"|center(3000000000) }}``, in the
    process that compiles, outside the limits of the workers that render); only text and
    plain values are written as they are."""

    def _output_child_to_const(
        self, node: jinja2.nodes.Expr, frame: jinja2.compiler.Frame, finalize: Any
    ) -> str:
        if not isinstance(node, jinja2.nodes.TemplateData | jinja2.nodes.Const):
            raise jinja2.nodes.Impossible
        return super()._output_child_to_const(node, frame, finalize)

    def visit_EvalContextModifier(
        self, node: jinja2.nodes.EvalContextModifier, frame: jinja2.compiler.Frame
    ) -> None:
        frame.eval_ctx.volatile = True  # a filter of plain values is not computed now either
        super().visit_EvalContextModifier(node, frame)


class Fast:
    """What an environment class mixes in to use the runtime of this module."""

    context_class: type[jinja2.runtime.Context] = FastContext
    code_generator_class: type[jinja2.compiler.CodeGenerator] = CodeGenerator
    escape_output = staticmethod(escape_output)
    globals: dict[str, Any]

    def make_globals(self, d: Any) -> Any:
        return {**self.globals, **(d or {})}
