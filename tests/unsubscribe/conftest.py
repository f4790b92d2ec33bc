"""The sender whose emails the unsubscribe and preference pages answer for."""

import pytest

from tests.builders import make_account


@pytest.fixture
def owner(make_user):
    user = make_user("kiran")
    make_account(user, from_name="Monsoon Books")
    return user
