"""TRUSTED_PROXIES: which forwarded addresses are believed."""

import pytest

from app import create_app
from app.proxies import TrustedProxies, parse_networks


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("198.51.100.2", "198.51.100.2"),
        ("198.51.100.2, 10.0.0.7", "198.51.100.2"),  # through a second listed proxy
        ("203.0.113.9, 198.51.100.2, 10.0.0.7", "198.51.100.2"),  # the first entry is the client's own claim
        ("10.0.0.8, 10.0.0.7", "10.0.0.8"),  # never further back than the chain goes
        ("", "10.0.0.1"),
    ],
)
def test_the_client_is_the_last_address_no_listed_proxy_wrote(forwarded_for, client):
    seen = {}

    def app(environ, start_response):
        seen["address"] = environ["REMOTE_ADDR"]
        return []

    middleware = TrustedProxies(app, parse_networks("10.0.0.0/8"))
    middleware(
        {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": forwarded_for, "wsgi.url_scheme": "http"}, None
    )
    assert seen["address"] == client


def test_a_request_from_elsewhere_keeps_its_own_address():
    seen = {}

    def app(environ, start_response):
        seen["address"] = environ["REMOTE_ADDR"]
        return []

    TrustedProxies(app, parse_networks("10.0.0.1"))(
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}, None
    )
    assert seen["address"] == "203.0.113.9"


def test_a_malformed_setting_is_a_clear_error_at_start():
    with pytest.raises(
        RuntimeError, match=r"TRUSTED_PROXIES: 'proxy.example' is not an IP address or network"
    ):
        create_app("testing", {"TRUSTED_PROXIES": "10.0.0.1, proxy.example"})
