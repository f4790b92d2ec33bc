"""Naming merge fields: every extra column becomes a `{{ key }}` a Jinja template can use."""

from __future__ import annotations

import keyword
import re
import unicodedata

from app.address_import.types import MergeField

# Fields every message already has: a column may not hide them.
BUILT_IN_FIELDS = {
    "email": "the recipient's address",
    "name": "the recipient's name",
    "unsubscribe_url": "the unsubscribe link",
}
# Words a template cannot use as a variable, or that mean something else there.
TEMPLATE_WORDS = frozenset(keyword.kwlist) | {
    "true",
    "false",
    "none",
    "loop",
    "self",
    "caller",
    "varargs",
    "kwargs",
}


def field_key(header: str, position: int) -> str:
    """ "First Name" -> first_name, "Zoë's Café" -> zoe_s_cafe, "2024" -> column_2024, "" -> column_3."""
    ascii_only = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    key = re.sub(r"[^a-z0-9]+", "_", ascii_only.lower()).strip("_")
    if not key:
        return f"column_{position + 1}"
    return f"column_{key}" if key[0].isdigit() else key


def merge_fields(columns: list[tuple[int, str]]) -> list[MergeField]:
    """Keys for (position, header) pairs, renamed with _2, _3… when a key is built in, a template word,
    or already taken by an earlier column; the note says why, for the user to read.
    """
    fields: list[MergeField] = []
    owners: dict[str, str] = {}
    for position, header in columns:
        base = field_key(header, position)
        key = base
        suffix = 2
        while key in BUILT_IN_FIELDS or key in TEMPLATE_WORDS or key in owners:
            key = f"{base}_{suffix}"
            suffix += 1
        fields.append(MergeField(key, header, _rename_note(header, base, key, owners)))
        owners[key] = header
    return fields


def _rename_note(header: str, base: str, key: str, owners: dict[str, str]) -> str:
    if key == base:
        return ""
    if base in BUILT_IN_FIELDS:
        why = f"{{{{ {base} }}}} is always {BUILT_IN_FIELDS[base]}"
    elif base in TEMPLATE_WORDS:
        why = f"'{base}' has a meaning of its own in templates"
    else:
        why = f"{{{{ {base} }}}} is already column '{owners[base]}'"
    return f"Column '{header}' is available as {{{{ {key} }}}}, because {why}."
