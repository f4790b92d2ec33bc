"""How big a value of a template, or the result of an operation on it, would be: estimated before the
operation runs, so that `app.sending.sandbox` refuses a result too big before building it.

Sizes are in characters (of the value as text). Each estimate errs on the big side, and stops counting
as soon as it has passed the `limit` it is given, so estimating a huge value costs no more than
estimating one just over the limit.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2.utils import Namespace

#: Containers nested deeper than this are counted as too big (a namespace can hold itself).
MAX_DEPTH = 32
#: A value that is none of the kinds below (a macro, a cycler, a loop object) as text.
OTHER_SIZE = 100
#: An integer may have at most this many bits (about 20,000 digits; Python prints at most 4,300).
MAX_INT_BITS = 65_536

_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
_NUMBER = re.compile(r"\d+")


class TooBig(Exception):
    """An operation whose result would pass the limit it was checked against."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class NumberTooBig(TooBig):
    """An integer operation whose result would have more than `MAX_INT_BITS` bits."""


def size_of(value: Any, limit: int, depth: int = 0) -> int:
    """Characters `value` would take as text, or a number over `limit` as soon as it is clear that it
    is bigger."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() * 3 // 10 + 2
    if isinstance(value, float):
        return 25
    if depth > MAX_DEPTH:
        return limit + 1
    if isinstance(value, Namespace):
        value = object.__getattribute__(value, "_Namespace__attrs")
    if isinstance(value, Mapping):
        return _sum_sizes((part for pair in value.items() for part in pair), limit, depth + 1)
    if isinstance(value, list | tuple | set | frozenset):
        return _sum_sizes(value, limit, depth + 1)
    return OTHER_SIZE


def _sum_sizes(values: Iterable[Any], limit: int, depth: int) -> int:
    total = 2
    for value in values:
        total += size_of(value, limit - total, depth) + 2
        if total > limit:
            break
    return total


def check(size: int, limit: int) -> None:
    if size > limit:
        raise TooBig(size)


def check_bits(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise NumberTooBig(bits)


def check_value(value: Any, limit: int) -> None:
    check(size_of(value, limit), limit)


def bounded_items(values: Iterable[Any], separator_size: int, limit: int) -> list[Any]:
    """`values` as a list, refused as soon as joining them (with a separator between each) would pass
    `limit`: a lazy sequence of big strings is never held in full."""
    items = []
    total = 0
    for value in values:
        total += size_of(value, limit - total) + separator_size
        check(total, limit)
        items.append(value)
    return items


def check_binop(operator: str, left: Any, right: Any, limit: int) -> None:
    """Refuse `left <operator> right` when its result would be too big, before it is computed."""
    if operator == "*":
        _check_multiply(left, right, limit)
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            check_bits(abs(left).bit_length() * right)
    elif operator == "+":
        if isinstance(left, str | bytes | list | tuple) and isinstance(right, str | bytes | list | tuple):
            check(len(left) + len(right), limit)
    elif operator == "%" and isinstance(left, str):
        check_percent_format(left, right, limit)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_multiply(left: Any, right: Any, limit: int) -> None:
    if _is_int(left) and _is_int(right):
        check_bits(left.bit_length() + right.bit_length())
        return
    sequence, times = (left, right) if _is_int(right) else (right, left)
    if _is_int(times) and isinstance(sequence, str | bytes | list | tuple):
        check(len(sequence) * max(times, 0), limit)


def check_percent_format(template: str, arguments: Any, limit: int) -> None:
    """`template % arguments`: the template, every width and precision it asks for, and the arguments."""
    numbers = _widths(arguments)
    total = len(template) + size_of(arguments, limit)
    for match in _PERCENT_SPEC.finditer(template):
        for width in match.groups():
            if width == "*":
                total += max(numbers, default=0)
            elif width:
                total += int(width)
    check(total, limit)


def check_str_format(template: str, args: tuple[Any, ...], kwargs: Mapping[str, Any], limit: int) -> None:
    """`template.format(*args, **kwargs)`: each field as big as the biggest argument, with the biggest
    width or precision any field asks for (a nested `{:{}}` one may be any integer argument)."""
    arguments = [*args, *kwargs.values()]
    biggest = max((size_of(value, limit) for value in arguments), default=0)
    total = len(template)
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return  # not a valid format: str.format will say so
    for _, name, spec, _ in fields:
        if name is None:
            continue
        width = max((int(number) for number in _NUMBER.findall(spec or "")), default=0)
        if spec and "{" in spec:
            width = max([width, *_widths(arguments)])
        total += biggest + width
        check(total, limit)


def _widths(arguments: Any) -> list[int]:
    values = arguments if isinstance(arguments, tuple | list) else [arguments]
    if isinstance(arguments, Mapping):
        values = list(arguments.values())
    return [abs(value) for value in values if _is_int(value)]


# ----- str methods and filters that make a result much bigger than what they are given ------------


def _width(value: str, width: Any = 0, *_: Any, **__: Any) -> int:
    return max(len(value), width if _is_int(width) else 0)


def _replaced(value: str, old: Any = "", new: Any = "", count: Any = None, **_: Any) -> int:
    if not isinstance(old, str) or not isinstance(new, str) or len(new) <= len(old):
        return len(value)
    times = value.count(old) if old else len(value) + 1
    if _is_int(count) and count >= 0:
        times = min(times, count)
    return len(value) + times * (len(new) - len(old))


def _tabs_expanded(value: str, tabsize: Any = 8) -> int:
    return len(value) + value.count("\t") * (tabsize if _is_int(tabsize) else 8)


def _translated(value: str, table: Any = None) -> int:
    if not isinstance(table, Mapping):
        return len(value)
    longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
    return len(value) * max(longest, 1)


def _indented(value: str, width: Any = 4, **_: Any) -> int:
    indent = len(width) if isinstance(width, str) else width if _is_int(width) else 0
    return len(value) + (value.count("\n") + 1) * indent


def _wrapped(value: str, width: Any = 79, wrapstring: Any = None, **_: Any) -> int:
    line = max(width, 1) if _is_int(width) else 79
    wrap = wrapstring if isinstance(wrapstring, str) else "\n"
    return len(value) + (len(value) // line + 1) * len(wrap)


def _batched(value: str, linecount: Any = 0, **_: Any) -> int:
    return linecount if _is_int(linecount) else 0


def _sliced(value: str, slices: Any = 0, **_: Any) -> int:
    return slices if _is_int(slices) else 0


def _json(value: str, indent: Any = None, **_: Any) -> int:
    return len(value) * (1 + indent) if _is_int(indent) and indent > 0 else len(value)


Estimate = Callable[..., int]

#: Methods of `str` whose result can be much bigger than the string, and how big it would be.
STR_METHODS: dict[str, Estimate] = {
    "center": _width,
    "ljust": _width,
    "rjust": _width,
    "zfill": _width,
    "expandtabs": _tabs_expanded,
    "replace": _replaced,
    "translate": _translated,
}

#: Filters whose result can be much bigger than their input, and how big it would be (`format` and
#: `join` are checked like `%` and `str.join`).
FILTERS: dict[str, Estimate] = {
    "center": _width,
    "replace": _replaced,
    "indent": _indented,
    "wordwrap": _wrapped,
    "batch": _batched,
    "slice": _sliced,
    "tojson": _json,
}
