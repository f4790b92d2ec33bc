"""Tags from an import's column: a column headed "Tags" (or "Tag", "Labels") gives each imported contact
the tags it lists, separated by commas or semicolons, instead of becoming an attribute. Tags are only
ever added by an import, never taken away."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.address_import import ImportResult
from app.address_import.columns import simplify
from app.audiences.models import TAG_NAME_LENGTH, Tag

TAG_HEADERS = frozenset({"tags", "tag", "labels", "label"})
_SEPARATORS = re.compile(r"[,;]")
STAGING = "contact_import_tag"


def tag_column(result: ImportResult) -> str | None:
    """The merge field key of the import's tags column, if it has one."""
    return next((field.key for field in result.merge_fields if simplify(field.header) in TAG_HEADERS), None)


def tag_names(cell: str) -> list[str]:
    """ "vip; Kochi, vip" -> ["vip", "Kochi"]: each tag once, in order, cut to the column's length."""
    names = (name.strip()[:TAG_NAME_LENGTH] for name in _SEPARATORS.split(cell))
    return list(dict.fromkeys(name for name in names if name))


def tag_imported(connection: sa.Connection, user_id: int, result: ImportResult, key: str) -> None:
    """Give each imported contact the tags of its `key` cell: tags are made as needed, then the
    (contact, tag) pairs are staged and inserted in one statement, skipping pairs already there."""
    pairs = [
        (recipient.address.lower(), name)
        for recipient in result.recipients
        for name in tag_names(recipient.merge_data.get(key, ""))
    ]
    names = sorted({name for _, name in pairs})
    if not names:
        return
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(Tag.__table__).on_conflict_do_nothing(),
        [{"user_id": user_id, "name": name} for name in names],
    )
    tag_ids = dict(
        connection.execute(
            sa.select(Tag.name, Tag.id).where(Tag.user_id == user_id, Tag.name.in_(names))
        ).all()
    )
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {STAGING}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {STAGING} (key text NOT NULL, tag_id integer NOT NULL)"
    )
    staging = sa.table(STAGING, sa.column("key"), sa.column("tag_id"))
    connection.execute(
        staging.insert(), [{"key": address, "tag_id": tag_ids[name]} for address, name in pairs]
    )
    connection.execute(
        sa.text(
            "INSERT INTO contact_tag (tag_id, contact_id) "
            f"SELECT staged.tag_id, contact.id FROM {STAGING} AS staged JOIN contact "
            "ON contact.user_id = :user_id AND lower(contact.address) = staged.key "
            "WHERE true ON CONFLICT DO NOTHING"
        ),
        {"user_id": user_id},
    )
    connection.exec_driver_sql(f"DROP TABLE {STAGING}")
