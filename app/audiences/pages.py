"""What the list page and the All contacts page share: reading the page position and the search."""

from __future__ import annotations

from collections.abc import Mapping

from app.audiences.queries import Position
from app.bounds import record_id


def position_from(args: Mapping[str, str]) -> Position:
    """`?after=<id>`, `?before=<id>` or `?last=1`; anything unreadable is the first page."""

    def read(name: str) -> int | None:
        try:
            return record_id(args[name]) if name in args else None
        except ValueError:
            return None

    return Position(after=read("after"), before=read("before"), last=args.get("last") == "1")
