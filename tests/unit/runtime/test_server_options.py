"""The options every service's HTTP server runs with."""

import httpx
import uvicorn

from services.runtime import http


def _config(app: str = "services.registration.app:app_from_environment") -> uvicorn.Config:
    return uvicorn.Config(**http.server_options(app, host="127.0.0.1", port=1, log_level="INFO"))


def test_the_server_keeps_an_idle_connection_longer_than_a_client_reuses_one() -> None:
    # A server closing an idle connection while its client sends on it fails that request
    # (httpx.ReadError, a proxy's 502); the client's expiry must end first: httpx's 5 s and
    # the 60 s of nginx and cloud load balancers. uvicorn's own default is 5 s.
    longest_client_expiry = max(httpx.Limits().keepalive_expiry or 5.0, 60.0)
    assert _config().timeout_keep_alive > longest_client_expiry


def test_an_import_string_is_a_factory_and_forwarded_headers_are_the_apps() -> None:
    config = _config()
    assert config.factory is True
    assert config.proxy_headers is False
    assert config.log_level == "info"
