"""Can every page be used on a 390 px wide phone, and by someone with a screen reader or low vision?

One list of pages, filled with realistic data (`sample_site`). A GET endpoint of the app that is neither
opened here nor excluded with its reason fails `test_every_page_of_the_app_is_on_the_list`, so a page
added later is checked too. Each page is opened by a visitor, by the owner of the data or by a newcomer,
each a browser context of its own shared by the whole module (one log-in each).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, url_for
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import assert_nothing_refused, csp_refusals
from tests.browser.sample_site import Site, build_site
from tests.conftest import PASSWORD

PHONE = {"width": 390, "height": 844}
SMALL_UPLOAD_LIMIT = 1024
VISITOR, OWNER, NEWCOMER = "visitor", "owner", "newcomer"
#: axe-core's impacts a page must not have; duplicate ids (rules axe no longer runs by default) are
#: refused too: two forms on one page must not both own `#csrf_token` or a label's `for`.
REFUSED_IMPACTS = ("serious", "critical")
DUPLICATE_ID_RULES = ("duplicate-id", "duplicate-id-active", "duplicate-id-aria")
RUN_AXE = """() => axe.run(document, {
    iframes: false,
    resultTypes: ['violations'],
    rules: {'duplicate-id': {enabled: true}, 'duplicate-id-active': {enabled: true}},
})"""


@dataclass(frozen=True)
class SitePage:
    """A page as someone opens it: `endpoint` is the url_map endpoint it covers (None: an error page)."""

    name: str
    endpoint: str | None
    who: str
    url: Callable[[Site], str]
    status: int = 200
    #: Opened as a POST of more bytes than MAX_CONTENT_LENGTH allows (the 413 page).
    oversized_post: bool = False


def campaign(endpoint: str, which: str, **args: Any) -> Callable[[Site], str]:
    """The URL of `endpoint` for the sample campaign `which` (its status, or "draft")."""
    return lambda site: url_for(endpoint, campaign_id=site.campaigns[which], **args)


PAGES = [
    SitePage("login", "auth.login", VISITOR, lambda site: url_for("auth.login")),
    SitePage("signup", "auth.signup", VISITOR, lambda site: url_for("auth.signup")),
    SitePage(
        "unsubscribe",
        "unsubscribe.unsubscribe",
        VISITOR,
        lambda site: url_for("unsubscribe.unsubscribe", token=site.unsubscribe_token),
    ),
    SitePage(
        "unsubscribe-with-a-broken-link",
        "unsubscribe.unsubscribe",
        VISITOR,
        lambda site: url_for("unsubscribe.unsubscribe", token="not-a-signed-token"),
        status=400,
    ),
    SitePage(
        "subscribe-again",
        "unsubscribe.subscribe_again",
        VISITOR,
        lambda site: url_for("unsubscribe.subscribe_again", token=site.resubscribe_token),
    ),
    SitePage(
        "preferences",
        "unsubscribe.preferences",
        VISITOR,
        lambda site: url_for("unsubscribe.preferences", token=site.preferences_token),
    ),
    SitePage(
        "signup-form", "signup.form", VISITOR, lambda site: url_for("signup.form", token=site.signup_token)
    ),
    SitePage(
        "signup-confirmation",
        "signup.confirm_signup",
        VISITOR,
        lambda site: url_for("signup.confirm_signup", token=site.confirmation_token),
    ),
    SitePage("not-found-logged-out", None, VISITOR, lambda site: "/no-such-page", status=404),
    SitePage("dashboard", "dashboard.index", OWNER, lambda site: url_for("dashboard.index")),
    SitePage("campaigns", "campaigns.index", OWNER, lambda site: url_for("campaigns.index")),
    SitePage("compose", "campaigns.compose", OWNER, lambda site: url_for("campaigns.compose")),
    SitePage(
        "compose-from-a-template",
        "campaigns.compose",
        OWNER,
        lambda site: url_for("campaigns.compose", template=site.template_id),
    ),
    SitePage("edit-draft", "campaigns.edit", OWNER, campaign("campaigns.edit", "draft")),
    *(
        SitePage(f"campaign-{status}", "campaigns.show", OWNER, campaign("campaigns.show", status))
        for status in ("draft", "scheduled", "sending", "paused", "completed", "cancelled")
    ),
    SitePage(
        "campaign-draft-with-a-problem",
        "campaigns.show",
        OWNER,
        campaign("campaigns.show", "draft-with-a-problem"),
    ),
    SitePage("delete-draft", "campaigns.delete", OWNER, campaign("campaigns.delete", "draft")),
    SitePage(
        "recipients-of-a-draft", "campaigns.recipients", OWNER, campaign("campaigns.recipients", "draft")
    ),
    SitePage(
        "recipients-of-a-sent-campaign",
        "campaigns.recipients",
        OWNER,
        campaign("campaigns.recipients", "completed"),
    ),
    SitePage(
        "recipients-review",
        "campaigns.review_recipients",
        OWNER,
        lambda site: url_for(
            "campaigns.review_recipients", campaign_id=site.campaigns["draft"], token=site.review_token
        ),
    ),
    SitePage(
        "recipients-review-choosing-the-address-column",
        "campaigns.review_recipients",
        OWNER,
        lambda site: url_for(
            "campaigns.review_recipients", campaign_id=site.campaigns["draft"], token=site.column_choice_token
        ),
        status=422,
    ),
    SitePage("report-completed", "campaigns.report", OWNER, campaign("campaigns.report", "completed")),
    SitePage(
        "report-failed-only",
        "campaigns.report",
        OWNER,
        campaign("campaigns.report", "completed", status="failed"),
    ),
    SitePage("report-sending", "campaigns.report", OWNER, campaign("campaigns.report", "sending")),
    SitePage("templates", "campaigns.templates", OWNER, lambda site: url_for("campaigns.templates")),
    SitePage("new-template", "campaigns.new_template", OWNER, lambda site: url_for("campaigns.new_template")),
    SitePage(
        "edit-template",
        "campaigns.edit_template",
        OWNER,
        lambda site: url_for("campaigns.edit_template", template_id=site.template_id),
    ),
    SitePage(
        "settings-with-an-smtp-account", "settings.index", OWNER, lambda site: url_for("settings.index")
    ),
    SitePage("change-password", "auth.change_password", OWNER, lambda site: url_for("auth.change_password")),
    SitePage("suppressions", "suppressions.index", OWNER, lambda site: url_for("suppressions.index")),
    SitePage("audience-lists", "audiences.index", OWNER, lambda site: url_for("audiences.index")),
    SitePage(
        "audience-list",
        "audiences.show_list",
        OWNER,
        lambda site: url_for("audiences.show_list", list_id=site.list_id),
    ),
    SitePage(
        "audience-list-searched",
        "audiences.show_list",
        OWNER,
        lambda site: url_for("audiences.show_list", list_id=site.list_id, q="reader.01"),
    ),
    SitePage(
        "audience-list-import-review",
        "audiences.review",
        OWNER,
        lambda site: url_for("audiences.review", list_id=site.list_id, token=site.list_review_token),
    ),
    SitePage(
        "audience-list-import-choosing-the-address-column",
        "audiences.review",
        OWNER,
        lambda site: url_for("audiences.review", list_id=site.list_id, token=site.list_column_choice_token),
        status=422,
    ),
    SitePage(
        "audience-contacts", "audiences.all_contacts", OWNER, lambda site: url_for("audiences.all_contacts")
    ),
    SitePage(
        "audience-contact",
        "audiences.contact",
        OWNER,
        lambda site: url_for("audiences.contact", contact_id=site.contact_id),
    ),
    SitePage(
        "audience-list-signup",
        "audiences.signup_settings",
        OWNER,
        lambda site: url_for("audiences.signup_settings", list_id=site.list_id),
    ),
    SitePage("audience-segments", "audiences.segments", OWNER, lambda site: url_for("audiences.segments")),
    SitePage(
        "audience-segment",
        "audiences.segment",
        OWNER,
        lambda site: url_for("audiences.segment", segment_id=site.segment_id),
    ),
    SitePage("audience-of-a-newcomer", "audiences.index", NEWCOMER, lambda site: url_for("audiences.index")),
    SitePage(
        "not-found", None, OWNER, lambda site: url_for("campaigns.show", campaign_id=999_999), status=404
    ),
    SitePage(
        "upload-too-large",
        None,
        OWNER,
        campaign("campaigns.upload_recipients", "draft"),
        status=413,
        oversized_post=True,
    ),
    SitePage("dashboard-of-a-newcomer", "dashboard.index", NEWCOMER, lambda site: url_for("dashboard.index")),
    SitePage(
        "settings-without-an-smtp-account", "settings.index", NEWCOMER, lambda site: url_for("settings.index")
    ),
]

#: GET endpoints that are not pages a person reads, and why.
EXCLUDED = {
    "static": "CSS, scripts and images, not pages",
    "favicon": "the icon browsers ask for, not a page",
    "dashboard.stats": "JSON the dashboard polls while emails go out",
    "campaigns.stats": "JSON the campaign page polls while emails go out",
    "campaigns.export_csv": "a CSV download of the report",
    "campaigns.export_xlsx": "an Excel download of the report",
    "campaigns.invalid_recipients_csv": "a CSV download of the refused rows",
    "audiences.invalid_csv": "a CSV download of the rows a list import refused",
    "audiences.export_csv": "a CSV download of a list",
}


def test_every_page_of_the_app_is_on_the_list(live_app: Flask):
    """A page added later fails here until it is on the list above (or excluded, with the reason)."""
    get_endpoints = {rule.endpoint for rule in live_app.url_map.iter_rules() if "GET" in (rule.methods or ())}
    covered = {page.endpoint for page in PAGES} - {None}
    assert get_endpoints - covered - EXCLUDED.keys() == set(), "pages nobody checks at 390 px nor with axe"
    assert (covered | EXCLUDED.keys()) - get_endpoints == set(), "listed endpoints the app no longer has"
    assert covered.isdisjoint(EXCLUDED)


@pytest.fixture(scope="module")
def site(live_app: Flask) -> Site:
    return build_site(live_app)


def log_in(context: BrowserContext, username: str) -> None:
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name=f"Hello, {username}")).to_be_visible()
    page.close()


@pytest.fixture(scope="module")
def contexts(browser: Browser, base_url: str, site: Site) -> Iterator[dict[str, BrowserContext]]:
    """A phone-sized browser for each kind of person, logged in once for the whole module."""
    made = {who: browser.new_context(base_url=base_url, viewport=PHONE) for who in (VISITOR, OWNER, NEWCOMER)}
    log_in(made[OWNER], site.owner)
    log_in(made[NEWCOMER], site.newcomer)
    yield made
    for context in made.values():
        context.close()


@pytest.fixture
def open_page(
    live_app: Flask,
    base_url: str,
    site: Site,
    contexts: dict[str, BrowserContext],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[SitePage], Page]]:
    """Opens a page in a new tab of its person's browser; the test fails if the Content-Security-Policy
    refused anything on it."""
    opened: list[tuple[Page, list[str]]] = []

    def open_(site_page: SitePage) -> Page:
        with live_app.test_request_context():
            url = base_url + site_page.url(site)
        tab = contexts[site_page.who].new_page()
        opened.append((tab, csp_refusals(tab)))
        if site_page.oversized_post:
            monkeypatch.setitem(live_app.config, "MAX_CONTENT_LENGTH", SMALL_UPLOAD_LIMIT)  # not a 20 MB post
            tab.route(url, lambda route: post_bytes(route, SMALL_UPLOAD_LIMIT + 1))
        response = tab.goto(url)
        assert response is not None, url
        assert response.status == site_page.status, f"{url} answered {response.status}"
        assert response.request.redirected_from is None, f"{url} redirected to {response.url}"
        return tab

    yield open_
    for tab, refused in opened:
        tab.close()
        assert_nothing_refused(refused)


def post_bytes(route: Route, size: int) -> None:
    route.continue_(
        method="POST", headers={"Content-Type": "application/octet-stream"}, post_data=b"x" * size
    )


WIDEST = """() => [...document.querySelectorAll('body *')]
    .filter(element => element.getBoundingClientRect().right > window.innerWidth + 0.5)
    .slice(-5)
    .map(element => `${element.tagName.toLowerCase()}.${[...element.classList].join('.')}`
        + ` (${Math.round(element.getBoundingClientRect().right)} px)`)"""


@pytest.mark.parametrize("site_page", PAGES, ids=[page.name for page in PAGES])
def test_the_page_fits_a_390_px_wide_phone_and_axe_finds_no_serious_problem_on_it(
    site_page: SitePage, open_page: Callable[[SitePage], Page], base_url: str
):
    """Nothing makes the page scroll sideways (wide tables scroll inside their card); and axe-core,
    served by the app itself and loaded by this test only, finds no serious problem over the whole page."""
    tab = open_page(site_page)
    width = tab.evaluate("document.documentElement.scrollWidth")
    too_wide = [f"{width} px wide; too wide: {tab.evaluate(WIDEST)}"] if width > PHONE["width"] else []
    tab.add_script_tag(url=f"{base_url}/static/vendor/axe/axe.min.js")
    results = tab.evaluate(RUN_AXE)
    problems = [
        f"{violation['id']} ({violation['impact']}): {violation['help']}: "
        + "; ".join(f"{' '.join(node['target'])}: {node['failureSummary']}" for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in REFUSED_IMPACTS or violation["id"] in DUPLICATE_ID_RULES
    ]
    assert too_wide + problems == [], "\n".join(too_wide + problems)
