"""Which variables a template reads without a fallback, found on Jinja's syntax tree.

A field the recipients do not have is harmless where the template says what to do without it:
`{{ company | default('our shop') }}` (or `| d(...)`), `{% if company is defined %}…{% endif %}`, the
else branch of `company is undefined`, `company if company is defined else …`, and the right of
`company is defined and …`. Any other read of the name is a use that needs the field.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeGuard

from jinja2 import nodes

#: Filters that replace an undefined value with their argument.
FALLBACK_FILTERS = frozenset({"default", "d"})


def unguarded_uses(tree: nodes.Template) -> dict[str, int]:
    """Each variable read somewhere without a fallback, with the line of its first such read."""
    found: dict[str, int] = {}
    _walk(tree, frozenset(), found)
    return found


def _walk(node: nodes.Node, guarded: frozenset[str], found: dict[str, int]) -> None:
    if isinstance(node, nodes.Name):
        if node.ctx == "load" and node.name not in guarded:
            found.setdefault(node.name, node.lineno)
        return
    if _tolerates_undefined(node):
        _walk_all(_arguments(node), guarded, found)
        return
    if isinstance(node, nodes.If | nodes.CondExpr):
        _walk(node.test, guarded, found)
        when_true, when_false = _defined_when(node.test)
        if isinstance(node, nodes.If):
            _walk_all(node.body, guarded | when_true, found)
            _walk_all([*node.elif_, *node.else_], guarded | when_false, found)
        else:
            _walk(node.expr1, guarded | when_true, found)
            if node.expr2 is not None:
                _walk(node.expr2, guarded | when_false, found)
        return
    if isinstance(node, nodes.And):
        _walk(node.left, guarded, found)
        _walk(node.right, guarded | _defined_when(node.left)[0], found)
        return
    _walk_all(node.iter_child_nodes(), guarded, found)


def _walk_all(children: Iterable[nodes.Node], guarded: frozenset[str], found: dict[str, int]) -> None:
    for child in children:
        _walk(child, guarded, found)


def _tolerates_undefined(node: nodes.Node) -> TypeGuard[nodes.Filter | nodes.Test]:
    """A fallback filter or a definedness test applied to a name itself."""
    if not isinstance(node, nodes.Filter | nodes.Test) or not isinstance(node.node, nodes.Name):
        return False
    if isinstance(node, nodes.Filter):
        return node.name in FALLBACK_FILTERS
    return node.name in ("defined", "undefined")


def _arguments(node: nodes.Filter | nodes.Test) -> list[nodes.Node]:
    return [
        *node.args,
        *node.kwargs,
        *(extra for extra in (node.dyn_args, node.dyn_kwargs) if extra is not None),
    ]


def _defined_when(test: nodes.Node) -> tuple[frozenset[str], frozenset[str]]:
    """The names `test` proves defined when it is true, and those it proves defined when it is false."""
    if isinstance(test, nodes.Test) and isinstance(test.node, nodes.Name):
        name = frozenset({test.node.name})
        if test.name == "defined":
            return name, frozenset()
        if test.name == "undefined":
            return frozenset(), name
    if isinstance(test, nodes.Not):
        when_true, when_false = _defined_when(test.node)
        return when_false, when_true
    if isinstance(test, nodes.And):
        return _defined_when(test.left)[0] | _defined_when(test.right)[0], frozenset()
    if isinstance(test, nodes.Or):
        return frozenset(), _defined_when(test.left)[1] | _defined_when(test.right)[1]
    return frozenset(), frozenset()
