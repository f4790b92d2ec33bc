"""The Jinja sandbox every user template renders in, bounded in time and in size.

A template is the user's code, run by the web app (the save-time check, the preview, the test email)
and by the engine for every recipient. Jinja's `ImmutableSandboxedEnvironment` keeps it from reading
anything but its data (and from growing a list in place); `BoundedEnvironment` adds the bounds, so
that no template can hold a web worker or a sender, or fill their memory:

- time: a render stops after `RenderLimits.seconds` of CPU time (`app.sending.cpu_deadline`), whatever
  loops, macros or filters it runs;
- size: a rendered part may have at most `RenderLimits.size` characters, and so may every value made
  on the way (`'a' * 10**8`, `s ~ s`, `'%99999999d' % 1`, `s.center(10**9)`, `items|join`, a
  macro's output, ...). Each operation that could make a big value is checked before it runs
  (`app.sending.render_sizes`), since a single C-level operation can't be stopped once started.
  Nothing big is made at compile time: Jinja's sandbox never folds intercepted operators into
  constants (it compiles them into `call_binop`), and filters refuse to be folded (`NotFolded`).

Either bound raises `RenderRefused` (a `TemplateError`, with a message for the user). The limits are
settings (`RENDER_TIME_LIMIT`, `RENDER_SIZE_LIMIT`), given once per process to `configure`.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import update_wrapper
from typing import Any

from jinja2 import TemplateError
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.nodes import Concat, Expr, Output
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg, generate_lorem_ipsum

from app.sending import cpu_deadline, render_sizes
from app.sending.cpu_deadline import OverBudget, run_within
from app.sending.render_sizes import NumberTooBig, TooBig

#: `lipsum()` makes at most this many paragraphs of at most this many words.
LIPSUM_PARAGRAPHS = 20
LIPSUM_WORDS = 200
#: A template's output statements (a macro's included) may make this many times the size limit in
#: all, the part itself at most once: what a macro renders is held until it is used.
PRODUCED_FACTOR = 4
#: Compiling a part may take this many times its render's CPU time.
COMPILE_FACTOR = 5


@dataclass(frozen=True)
class RenderLimits:
    #: CPU seconds one part (subject, HTML or text) may take to render.
    seconds: float = 0.2
    #: Characters one rendered part, or any value made while rendering it, may have.
    size: int = 2_000_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RenderLimits:
        return cls(seconds=config["RENDER_TIME_LIMIT"], size=config["RENDER_SIZE_LIMIT"])

    @property
    def compile_seconds(self) -> float:
        """CPU seconds parsing or compiling one part may take (a long template takes longer)."""
        return self.seconds * COMPILE_FACTOR


class RenderRefused(TemplateError):
    """A render stopped by a bound; its message says which, for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


_limits = RenderLimits()


def configure(limits: RenderLimits) -> None:
    """Set this process's limits (the app does, from its settings; so does each build process), and
    start the watchdog that enforces them, so that the first render does not wait for it."""
    global _limits
    _limits = limits
    cpu_deadline.start()


def current_limits() -> RenderLimits:
    return _limits


def too_big(limits: RenderLimits) -> RenderRefused:
    return RenderRefused(
        f"The template would make more than {limits.size:,} characters, the most one part of an email "
        "may have."
    )


def number_too_big() -> RenderRefused:
    return RenderRefused(
        f"The template would make a number of more than {render_sizes.MAX_INT_BITS:,} bits (about "
        f"{render_sizes.MAX_INT_BITS * 3 // 10:,} digits)."
    )


def too_complex(limits: RenderLimits) -> RenderRefused:
    return RenderRefused(
        f"The template is too long or too complex: reading it took more than {limits.compile_seconds:g} s."
    )


def too_slow(limits: RenderLimits) -> RenderRefused:
    return RenderRefused(
        f"The template took more than {limits.seconds:g} s to render and was stopped (a loop too long "
        "for the recipient's data?)."
    )


class _Meter(threading.local):
    """Whether this thread is rendering, and how many characters the render has produced so far (every
    output statement, a macro's included)."""

    rendering = False
    produced = 0


_meter = _Meter()


class BoundedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with every output (constants too: a loop in a macro can append the
    same one many times) and every `~` checked by the environment."""

    buffered = False

    def visit_Output(self, node: Output, frame: Frame) -> None:
        self.buffered = frame.buffer is not None
        super().visit_Output(node, frame)

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        """A constant yielded is counted as the render joins the chunks; one appended to a buffer here."""
        constant = super()._output_const_repr(group)
        return f"environment.checked_output({constant})" if self.buffered else constant

    def _output_child_pre(self, node: Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_pre(node, frame, finalize)
        self.write("environment.checked_output(")

    def _output_child_post(self, node: Expr, frame: Frame, finalize: Any) -> None:
        self.write(")")
        super()._output_child_post(node, frame, finalize)

    def visit_Concat(self, node: Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        else:
            join = "markup_join" if frame.eval_ctx.autoescape else "str_join"
        self.write(f"{join}(environment.checked_parts((")
        for part in node.nodes:
            self.visit(part, frame)
            self.write(", ")
        self.write(")))")


class BoundedTemplate(Template):
    """A template whose `render` keeps to the environment's `RenderLimits`."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        limits = _limits
        context = self.new_context(dict(*args, **kwargs))
        try:
            try:
                return run_within(
                    limits.seconds, lambda: self._joined(self.root_render_func(context), limits)
                )
            except OverBudget as over:
                raise too_slow(limits).with_traceback(over.__traceback__) from None
        except Exception:
            self.environment.handle_exception()  # raises it again, pointing at the template's lines

    @staticmethod
    def _joined(chunks: Iterator[str], limits: RenderLimits) -> str:
        _meter.rendering, _meter.produced = True, 0
        try:
            parts = []
            total = 0
            for chunk in chunks:
                total += len(chunk)
                if total > limits.size:
                    raise too_big(limits)
                parts.append(chunk)
            return "".join(parts)
        finally:
            _meter.rendering = False


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox with `RenderLimits` (see the module's docstring)."""

    code_generator_class = BoundedCodeGenerator
    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["lipsum"] = bounded_lipsum
        self.filters = {
            name: self._bounded_filter(name, _join_filter(f) if name == "join" else f)
            for name, f in self.filters.items()
        }

    def parse(self, source: str, name: str | None = None, filename: str | None = None) -> Any:
        return _compiling(lambda: super(BoundedEnvironment, self).parse(source, name, filename))

    def compile(
        self,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        return _compiling(
            # jinja2 types `raw` as Literal[True] or Literal[False] in two overloads; a bool matches neither.
            lambda: super(BoundedEnvironment, self).compile(  # type: ignore[call-overload]
                source, name, filename, raw, defer_init
            )
        )

    # ----- checks the compiled template calls -----

    def checked_output(self, value: Any) -> Any:
        """A value about to be output: refused if it, or all the template has produced, is too big."""
        limit = _limits.size
        size = len(value) if isinstance(value, str) else render_sizes.size_of(value, limit)
        meter = _meter
        meter.produced += size
        if size > limit or meter.produced > limit * PRODUCED_FACTOR:
            raise too_big(_limits)
        return value

    def checked_parts(self, parts: tuple[Any, ...]) -> tuple[Any, ...]:
        """The parts of `a ~ b`, refused if joined they would be too big."""
        return self._checked(
            lambda limit: render_sizes.check(render_sizes.size_of(parts, limit), limit), parts
        )

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        self._checked(lambda limit: render_sizes.check_binop(operator, left, right, limit))
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = __self._checked_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        template: str = value.__self__
        is_format_map = value.__name__ == "format_map"

        def checked(*args: Any, **kwargs: Any) -> str:
            if is_format_map and len(args) == 1 and isinstance(args[0], dict):
                self._checked(lambda limit: render_sizes.check_str_format(template, (), args[0], limit))
            else:
                self._checked(lambda limit: render_sizes.check_str_format(template, args, kwargs, limit))
            return wrapped(*args, **kwargs)

        return update_wrapper(checked, wrapped)

    # ----- helpers -----

    @staticmethod
    def _checked(check: Callable[[int], object], result: Any = None) -> Any:
        limits = _limits
        try:
            check(limits.size)
        except NumberTooBig:
            raise number_too_big() from None
        except TooBig:
            raise too_big(limits) from None
        return result

    def _checked_str_method(
        self, owner: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[Any, ...]:
        """The arguments of `owner.<name>(...)`, once its result is known to fit (`str.join`'s items
        are read into a list on the way, counting)."""
        if name == "join" and args:
            items: list[Any] = []
            self._checked(lambda limit: items.extend(render_sizes.bounded_items(args[0], len(owner), limit)))
            return (items, *args[1:])
        estimate = render_sizes.STR_METHODS.get(name)
        if estimate is not None:
            self._checked(lambda limit: render_sizes.check(_estimated(estimate, owner, args, kwargs), limit))
        return args

    def _bounded_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """`function` with its input checked first, its result after, and the result estimated
        beforehand when it can be much bigger than its input (`render_sizes.FILTERS`)."""
        passes_arg = _PassArg.from_obj(function) is not None
        estimate = render_sizes.FILTERS.get(name)
        parameters = inspect.signature(function) if estimate is not None else None

        def bounded(*args: Any, **kwargs: Any) -> Any:
            if not _meter.rendering:
                raise NotFolded(name)
            value, rest = (args[1], args[2:]) if passes_arg else (args[0], args[1:])
            if isinstance(value, Iterator):  # a lazy sequence (`map`, `select`): count what it makes
                value = _counted(value)
                args = (args[0], value, *rest) if passes_arg else (value, *rest)
            if name == "format":
                self._checked(
                    lambda limit: render_sizes.check_percent_format(str(value), kwargs or rest, limit)
                )
            elif not isinstance(value, str) and name != "join":  # `join` counts items as it reads them
                self._checked(lambda limit: render_sizes.check_value(value, limit))
            if estimate is not None and parameters is not None:
                self._checked(
                    lambda limit: _check_filter(estimate, parameters, passes_arg, args, kwargs, limit)
                )
            result = function(*args, **kwargs)
            if isinstance(result, str) and len(result) > _limits.size:
                raise too_big(_limits)
            return result

        return update_wrapper(bounded, function)


def _counted(values: Iterator[Any]) -> Iterator[Any]:
    """`values`, refused once the items it has made would together pass the size limit: a filter that
    collects a lazy sequence (`list`, `sort`, `batch`, ...) never holds more."""
    limits = _limits
    total = 0
    for value in values:
        total += render_sizes.size_of(value, limits.size)
        if total > limits.size:
            raise too_big(limits)
        yield value


def _compiling(work: Callable[[], Any]) -> Any:
    limits = _limits
    try:
        return run_within(limits.compile_seconds, work)
    except OverBudget:
        raise too_complex(limits) from None


class NotFolded(Exception):
    """A filter called while compiling, to fold it into a constant: refused (Jinja then leaves it for
    the render), since a compile is not bounded and a template can hold many such constants."""


def _estimated(
    estimate: render_sizes.Estimate, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> int:
    try:
        return estimate(value, *args, **kwargs)
    except TypeError:  # not arguments the method takes: it will say so itself
        return 0


def _check_filter(
    estimate: render_sizes.Estimate,
    parameters: inspect.Signature,
    passes_arg: bool,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    limit: int,
) -> None:
    """Estimate a filter's result from its arguments by name (`value` as text, which `check_value`
    has found small enough to make)."""
    try:
        bound = parameters.bind(*args, **kwargs)
    except TypeError:  # the filter will say what is wrong
        return
    bound.apply_defaults()
    named = list(bound.arguments.items())[1 if passes_arg else 0 :]
    value = named[0][1]
    text = value if isinstance(value, str) else str(value)
    render_sizes.check(estimate(text, **dict(named[1:])), limit)


def _join_filter(join: Callable[..., Any]) -> Callable[..., Any]:
    """Jinja's `join`, given its items only once joining them is known to fit."""

    def bounded_join(eval_ctx: Any, value: Any, d: str = "", attribute: Any = None) -> Any:
        limits = _limits
        try:
            items = render_sizes.bounded_items(value, len(d), limits.size)
        except TooBig:
            raise too_big(limits) from None
        return join(eval_ctx, items, d, attribute)

    return update_wrapper(bounded_join, join)


def bounded_lipsum(n: int = 5, html: bool = True, min: int = 20, max: int = 100) -> str:
    """Jinja's `lipsum`, for at most `LIPSUM_PARAGRAPHS` paragraphs of at most `LIPSUM_WORDS` words."""
    if n > LIPSUM_PARAGRAPHS or max > LIPSUM_WORDS:
        raise RenderRefused(
            f"lipsum() makes at most {LIPSUM_PARAGRAPHS} paragraphs of at most {LIPSUM_WORDS} words."
        )
    return generate_lorem_ipsum(n, html, min, max)


HTML_ENV = BoundedEnvironment(autoescape=True)
TEXT_ENV = BoundedEnvironment(autoescape=False)
