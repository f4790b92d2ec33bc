"""Merge-field keys: identifiers a template can use, never hiding the built-in fields."""

from __future__ import annotations

import pytest

from app.address_import.fields import field_key, merge_fields


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("First Name", "first_name"),
        ("  Company  (Ltd.) ", "company_ltd"),
        ("Zoë's Café", "zoe_s_cafe"),
        ("2024 Orders", "column_2024_orders"),
        ("€€", "column_4"),
        ("", "column_4"),
    ],
)
def test_headers_become_template_identifiers(header: str, key: str):
    assert field_key(header, 3) == key


@pytest.mark.parametrize(
    ("header", "key", "why"),
    [
        ("Email", "email_2", "{{ email }} is always the recipient's address"),
        ("NAME", "name_2", "{{ name }} is always the recipient's name"),
        ("Unsubscribe URL", "unsubscribe_url_2", "{{ unsubscribe_url }} is always the unsubscribe link"),
        ("If", "if_2", "'if' has a meaning of its own in templates"),
        ("None", "none_2", "'none' has a meaning of its own in templates"),
        ("loop", "loop_2", "'loop' has a meaning of its own in templates"),
    ],
)
def test_reserved_names_are_renamed_with_a_note(header: str, key: str, why: str):
    [field] = merge_fields([(2, header)])
    assert (field.key, field.note) == (
        key,
        f"Column '{header}' is available as {{{{ {key} }}}}, because {why}.",
    )


def test_colliding_headers_are_numbered_with_a_note():
    fields = merge_fields([(1, "First Name"), (2, "first_name"), (3, "FIRST-NAME")])
    assert [field.key for field in fields] == ["first_name", "first_name_2", "first_name_3"]
    assert fields[1].note == (
        "Column 'first_name' is available as {{ first_name_2 }}, because {{ first_name }} is already column "
        "'First Name'."
    )


def test_plain_headers_need_no_note():
    assert [field.note for field in merge_fields([(1, "City"), (2, "Phone Number")])] == ["", ""]
