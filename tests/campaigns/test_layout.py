"""Can a newcomer find each campaign page's code under a folder of that name?"""

from __future__ import annotations

import pytest
from flask import Flask

PAGES = {
    "campaigns.recipients": "app.campaigns.recipients.routes",
    "campaigns.review_recipients": "app.campaigns.recipients.routes",
    "campaigns.report": "app.campaigns.report.routes",
    "campaigns.export_xlsx": "app.campaigns.report.routes",
    "campaigns.templates": "app.campaigns.saved_templates.routes",
    "campaigns.show": "app.campaigns.routes",
}


@pytest.mark.parametrize(("endpoint", "module"), PAGES.items())
def test_a_campaign_page_is_served_from_the_routes_of_its_folder(app: Flask, endpoint: str, module: str):
    assert app.view_functions[endpoint].__module__ == module


def test_only_routes_modules_register_campaign_views(app: Flask):
    modules = {
        view.__module__ for endpoint, view in app.view_functions.items() if endpoint.startswith("campaigns.")
    }
    assert all(module.endswith(".routes") for module in modules), modules
