"""Every rule about statuses is written once, in `app.states`, and the statuses keep the values stored."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from app import states
from app.states import CampaignStatus, EmailStatus

APP = Path(__file__).resolve().parents[1] / "app"
HOME = APP / "states.py"
ENUMS = {"CampaignStatus", "EmailStatus"}
VALUES = {status.value for status in (*CampaignStatus, *EmailStatus)}
#: A list of quoted words in SQL (`status IN ('queued', 'sending')`) or in a template (`('draft', 'sent')`).
QUOTED_LIST = re.compile(r"[(\[]\s*'\w+'(?:\s*,\s*'\w+')+\s*[)\]]")


def is_status(node: ast.expr) -> bool:
    """`CampaignStatus.X`, `EmailStatus.X`, or a string that is a status's value."""
    if isinstance(node, ast.Attribute):
        return isinstance(node.value, ast.Name) and node.value.id in ENUMS
    return isinstance(node, ast.Constant) and node.value in VALUES


def spelled_out_groups(source: str) -> list[int]:
    """The lines of `source` where a tuple, list or set names two statuses or more."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Tuple | ast.List | ast.Set) and sum(map(is_status, node.elts)) >= 2
    ]


def quoted_status_lists(text: str) -> list[int]:
    """The lines of `text` holding a quoted list made only of status values, two or more."""
    return [
        text.count("\n", 0, match.start()) + 1
        for match in QUOTED_LIST.finditer(text)
        if set(re.findall(r"'(\w+)'", match.group())) <= VALUES
    ]


def test_no_group_of_statuses_is_spelled_out_outside_app_states():
    """A group of statuses has one name in `app.states`; code, SQL and templates elsewhere use the name."""
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path != HOME:
            text = path.read_text()
            lines = spelled_out_groups(text) + quoted_status_lists(text)
            found += [f"{path.relative_to(APP.parent)}:{line}" for line in sorted(lines)]
    for path in sorted((APP / "templates").rglob("*.html")):
        found += [f"{path.relative_to(APP.parent)}:{line}" for line in quoted_status_lists(path.read_text())]
    assert found == [], "statuses grouped outside app/states.py; name the group there and import it"


def imports_of_the_enums_from_the_models(source: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.ImportFrom)
        and node.module == "app.models"
        and ENUMS & {alias.name for alias in node.names}
    ]


def test_the_statuses_are_imported_from_their_home():
    """The models use the enums for their columns; the rest of the code takes them from `app.states`."""
    root = APP.parent
    found = [
        f"{path.relative_to(root)}:{line}"
        for folder in ("app", "tests", "bench")
        for path in sorted((root / folder).rglob("*.py"))
        for line in imports_of_the_enums_from_the_models(path.read_text())
    ]
    assert found == [], "import CampaignStatus and EmailStatus from app.states"


@pytest.mark.parametrize(
    ("source", "lines"),
    [
        ("OPEN = (CampaignStatus.SCHEDULED, CampaignStatus.SENDING)", [1]),
        ("query.where(Email.status.in_([\n    EmailStatus.QUEUED,\n    EmailStatus.SENDING,\n]))", [1]),
        ("if status in {'pending', 'queued'}: pass", [1]),
        ("ONE = (CampaignStatus.PAUSED,)\nmixed = ('sent', 'success')", []),
    ],
)
def test_the_scan_finds_groups_however_they_are_written(source, lines):
    assert spelled_out_groups(source) == lines


def test_the_scan_finds_groups_spelled_in_sql_and_templates():
    assert quoted_status_lists("x\nsa.text(\"status IN ('queued', 'sending')\")") == [2]
    assert quoted_status_lists("{% for part, colour in (('sent', 'success'),) %}") == []


def test_two_names_for_one_group_are_one_rule():
    """`PAUSABLE = RUNNING` names one rule twice; two tuples holding the same statuses would be two rules."""
    groups = {
        name: value for name, value in vars(states).items() if name.isupper() and isinstance(value, tuple)
    }
    assert {"OPEN", "RUNNING", "CANCELLABLE", "RETRIABLE", "CLAIMED", "UNFINISHED"} <= groups.keys()
    for name, group in groups.items():
        twins = [other for other, value in groups.items() if set(value) == set(group) and value is not group]
        assert twins == [], f"{name} and {twins} hold the same statuses: make one an alias of the other"


def test_statuses_keep_the_values_the_database_stores():
    """Rows, migrations' partial indexes and the counters' triggers compare these strings."""
    assert list(CampaignStatus) == ["draft", "scheduled", "sending", "paused", "completed", "cancelled"]
    assert list(EmailStatus) == [
        "pending",
        "queued",
        "sending",
        "sent",
        "bounced",
        "complained",
        "replied",
        "failed",
        "cancelled",
        "suppressed",
    ]
    assert f"{EmailStatus.PENDING}" == "pending"
