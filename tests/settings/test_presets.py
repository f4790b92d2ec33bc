"""Do the provider presets fill sensible settings and say honestly what each provider allows?"""

import json
import re

import pytest

from app.models import Security
from app.settings.forms import USUAL_SECURITY_BY_PORT
from app.settings.presets import PRESETS

PROVIDERS = [
    "Gmail",
    "Google Workspace",
    "Outlook / Microsoft 365",
    "Hostinger",
    "Zoho Mail",
    "SendGrid",
    "Mailgun",
    "Amazon SES",
    "Brevo",
    "Other",
]


def test_every_promised_provider_has_a_preset():
    assert [preset.label for preset in PRESETS] == PROVIDERS


@pytest.mark.parametrize("preset", [p for p in PRESETS if p.key != "other"], ids=lambda p: p.key)
def test_preset_is_consistent_and_notes_the_published_limit(preset):
    assert preset.host
    assert preset.security in Security.ALL
    assert preset.security in USUAL_SECURITY_BY_PORT[preset.port], "a preset must not trigger a warning"
    assert preset.send_interval is not None
    assert preset.batch_size
    assert re.search(r"\d", preset.note), "the note quotes the provider's figure"
    if preset.hourly_cap and preset.daily_cap:
        assert preset.hourly_cap <= preset.daily_cap


def test_other_fills_nothing_but_still_has_a_note():
    other = PRESETS[-1]
    assert set(other.form_values().values()) == {None}
    assert "documentation" in other.note


def test_settings_page_carries_the_presets_for_the_picker(client, logged_in):
    page = client.get("/settings/").get_data(as_text=True)
    assert '<option value="gmail">Gmail</option>' in page
    data = json.loads(
        re.search(r'<script type="application/json" id="smtp-presets">(.*?)</script>', page).group(1)
    )
    assert data["microsoft365"]["fields"] == {
        "host": "smtp.office365.com",
        "port": 587,
        "security": "starttls",
        "send_interval": 3,
        "batch_size": 20,
        "hourly_cap": 600,
        "daily_cap": 9000,
    }
    assert "30 messages a minute" in data["microsoft365"]["note"]
    assert "/static/settings/smtp_presets.js" in page
