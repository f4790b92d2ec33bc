import pytest

PUBLIC_ENDPOINTS = {
    "auth.login",
    "auth.signup",
    "static",
    "favicon",
    "unsubscribe.unsubscribe",
    "unsubscribe.subscribe_again",
    "unsubscribe.preferences",
    "signup.form",
    "signup.confirm_signup",
}


def protected_urls(app):
    """Every GET route but the public ones, with dummy ids for its arguments."""
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in rule.methods:
            continue
        urls.append(rule.build(dict.fromkeys(rule.arguments, 1))[1])
    return urls


def test_every_page_but_signup_and_login_needs_login(app, client):
    urls = protected_urls(app)
    assert "/" in urls
    assert "/campaigns/" in urls
    assert "/settings/" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.location.startswith("/login?next="), url


@pytest.mark.parametrize("url", ["/login", "/signup"])
def test_public_pages_open_without_login(client, url):
    assert client.get(url).status_code == 200


def test_unknown_page_gets_the_404_page_in_the_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "There is nothing here" in page
    assert "navbar" in page


def test_too_large_upload_gets_the_413_page(app, client, logged_in):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post("/campaigns/new", data={"name": "x" * 4096})
    assert response.status_code == 413
    assert "The upload is larger than" in response.get_data(as_text=True)
