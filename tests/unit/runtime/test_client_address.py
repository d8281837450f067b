"""The client behind our proxies: the right-most untrusted X-Forwarded-For hop, IPv6 per /64."""

from ipaddress import ip_network

import pytest

from services.runtime.client_address import ClientAddresses, parse_address
from services.runtime.settings import Settings, SettingsError, environment_settings

PROXY = "10.0.0.5"
INNER_PROXY = "10.0.0.9"


def behind_proxies(*networks: str) -> ClientAddresses:
    return ClientAddresses(
        trust_forwarded_for=True, trusted_proxies=[ip_network(network) for network in networks]
    )


TRUSTING = behind_proxies("10.0.0.0/24", "127.0.0.1/32")


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        ("203.0.113.7", "203.0.113.7"),
        # The client wrote the left entries itself; our proxy appended what it saw.
        ("1.1.1.1, 203.0.113.7", "203.0.113.7"),
        ("1.1.1.1,2.2.2.2,203.0.113.7", "203.0.113.7"),
        # Hops our own proxies appended are skipped.
        (f"1.1.1.1, 203.0.113.7, {INNER_PROXY}", "203.0.113.7"),
        # Every hop is ours: the left-most of them.
        (f"127.0.0.1, {INNER_PROXY}", "127.0.0.1"),
        # Ports, as some proxies write them.
        ("203.0.113.7:4711", "203.0.113.7"),
        ("[2001:db8::1]:4711", "2001:db8:0:0::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
    ],
)
def test_the_client_is_the_right_most_hop_that_is_not_our_proxy(
    forwarded_for: str, client: str
) -> None:
    assert TRUSTING.limit_key(PROXY, forwarded_for) == client


@pytest.mark.parametrize(
    ("forwarded_for", "client"),
    [
        # What the client wrote left of a garbled entry is never believed.
        (f"203.0.113.7, not-an-address, {INNER_PROXY}", INNER_PROXY),
        ("203.0.113.7, not-an-address", PROXY),
        ("", PROXY),
        (" , ,", PROXY),
        ("unknown", PROXY),
        ("300.1.2.3", PROXY),
        ("[2001:db8::1", PROXY),
        ("[not-an-address]:80", PROXY),
        ("\x00\xff" * 500, PROXY),
        (",".join(["10.0.0.7"] * 2000) + ", 203.0.113.7, 10.0.0.8", "203.0.113.7"),
    ],
)
def test_malformed_entries_are_skipped_safely(forwarded_for: str, client: str) -> None:
    assert TRUSTING.limit_key(PROXY, forwarded_for) == client


def test_forwarded_for_is_read_only_from_a_trusted_proxy() -> None:
    assert TRUSTING.limit_key("198.51.100.1", "203.0.113.7") == "198.51.100.1"


def test_forwarded_for_is_ignored_unless_trusted_by_setting() -> None:
    untrusting = ClientAddresses(
        trust_forwarded_for=False, trusted_proxies=[ip_network("10.0.0.0/24")]
    )
    assert untrusting.limit_key(PROXY, "203.0.113.7") == PROXY


def test_every_address_of_one_ipv6_64_shares_one_key() -> None:
    addresses = behind_proxies()
    keys = {
        addresses.limit_key(peer, None)
        for peer in ("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2:a::b")
    }
    assert keys == {"2001:db8:1:2::/64"}
    assert addresses.limit_key("2001:db8:1:3::1", None) == "2001:db8:1:3::/64"


def test_ipv4_clients_are_limited_per_address() -> None:
    addresses = behind_proxies()
    assert addresses.limit_key("203.0.113.7", None) != addresses.limit_key("203.0.113.8", None)


def test_a_peer_that_is_no_ip_address_keeps_its_name() -> None:
    assert TRUSTING.limit_key(None, "203.0.113.7") == "unknown"
    assert TRUSTING.limit_key("/run/dialognet.sock", "203.0.113.7") == "/run/dialognet.sock"
    assert parse_address("::1") is not None


def test_trusted_proxies_setting_is_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGNET_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1,fd00::/8")
    assert environment_settings().trusted_proxies == (
        ip_network("10.0.0.0/8"),
        ip_network("192.168.1.1/32"),
        ip_network("fd00::/8"),
    )
    assert Settings().trusted_proxies  # loopback by default


def test_a_bad_trusted_proxy_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGNET_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
    with pytest.raises(SettingsError) as raised:
        environment_settings()
    assert "DIALOGNET_TRUSTED_PROXIES" in str(raised.value)
    assert "'proxy.internal' is no IP address" in str(raised.value)
