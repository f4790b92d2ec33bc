"""The corpus of real bounces, complaint reports and auto-replies (tests/mailbox/corpus/corpus.toml)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).parent / "corpus"


@dataclass(frozen=True)
class Sample:
    name: str
    source: str
    kind: str
    address: str
    message_id: str
    status: str = ""
    hard: bool = False

    @property
    def raw(self) -> bytes:
        return (CORPUS / f"{self.name}.eml").read_bytes()


def samples() -> list[Sample]:
    entries = tomllib.loads((CORPUS / "corpus.toml").read_text())
    return [Sample(name, **fields) for name, fields in entries.items()]
