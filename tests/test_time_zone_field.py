"""The time-zone picker is rendered once per chosen zone and reused, and reads exactly as WTForms' own
select would render it."""

from __future__ import annotations

import re

import pytest
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.widgets import Select

from app.forms import TimeZoneField


class ZoneForm(Form):
    timezone = TimeZoneField(default="Asia/Kolkata")


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "America/Los_Angeles", "Europe/Paris", "UTC"])
@pytest.mark.parametrize("attributes", [{}, {"class": "form-select is-invalid", "aria-invalid": "true"}])
def test_the_picker_reads_as_wtforms_renders_it_with_the_chosen_zone_selected(zone, attributes):
    field = ZoneForm(MultiDict({"timezone": zone})).timezone
    for _ in range(2):  # the second time from what the first rendered
        rendered = field(**attributes)
        assert rendered == Select()(field, **attributes)
    assert f'<option selected value="{zone}">' in rendered
    assert rendered.count("selected") == 1


def test_each_form_shows_its_own_choice():
    kolkata, paris = ZoneForm().timezone, ZoneForm(MultiDict({"timezone": "Europe/Paris"})).timezone
    assert '<option selected value="Asia/Kolkata">' in kolkata()
    assert '<option selected value="Europe/Paris">' in paris()
    assert '<option selected value="Asia/Kolkata">' in kolkata()


@pytest.mark.usefixtures("fresh_g_per_request")
def test_sign_up_and_settings_show_the_picker_as_a_select(app, client, logged_in):
    for visitor, url in ((app.test_client(), "/signup"), (client, "/settings/")):
        page = visitor.get(url).get_data(as_text=True)
        [picker] = re.findall(r'<select[^>]*name="timezone"[^>]*>', page)
        assert 'class="form-select"' in picker, url
