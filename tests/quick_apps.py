"""Make each test's app quick to build and to render: what every app of the run would compute the same
way is computed once.

Every test makes an app of its own. Werkzeug then compiles Python code for each of its ~80 URL rules
(`Rule._compile_builder`, about 90 % of `create_app`) and Jinja compiles every template the test renders
(about 25 ms a template), the same code each time. The URL builder depends only on the rule, its parts
and its defaults (the rule is bound to it as `self` when called), and Jinja's bytecode cache checks each
template's source before reusing its code, so sharing both across the run changes nothing a test sees.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from werkzeug.routing.rules import Rule

_compile_builder = Rule._compile_builder
_builders: dict[tuple[Any, ...], Callable[..., tuple[str, str]]] = {}


def _cached_builder(self: Rule, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
    key = (self.rule, tuple(self._trace), repr(sorted((self.defaults or {}).items())), append_unknown)
    builder = _builders.get(key)
    if builder is None:
        builder = _builders[key] = _compile_builder(self, append_unknown)
    return builder


class TemplateCodeCache(BytecodeCache):
    """Compiled templates kept in memory for the whole run."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_template_code = TemplateCodeCache()
_create_jinja_environment = Flask.create_jinja_environment


def _environment_with_shared_code(self: Flask) -> Environment:
    environment = _create_jinja_environment(self)
    environment.bytecode_cache = _template_code
    return environment


Rule._compile_builder = _cached_builder  # type: ignore[method-assign]
Flask.create_jinja_environment = _environment_with_shared_code  # type: ignore[method-assign]
