"""Bad DIALOGNET_* values are refused with a message naming the variable (never a secret)."""

import pytest

from services.runtime.settings import SettingsError, environment_settings


def test_bad_value_names_the_variable_and_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGNET_REGISTRATION_PORT", "abc")
    monkeypatch.setenv("DIALOGNET_DB_POOL_MAX_SIZE", "0")
    with pytest.raises(SettingsError) as raised:
        environment_settings()
    message = str(raised.value)
    assert "DIALOGNET_REGISTRATION_PORT='abc'" in message
    assert "valid integer" in message
    assert "DIALOGNET_DB_POOL_MAX_SIZE='0'" in message


def test_a_bad_secret_is_named_but_not_echoed() -> None:
    with pytest.raises(SettingsError) as raised:
        environment_settings(admin_token=123456789)
    message = str(raised.value)
    assert "DIALOGNET_ADMIN_TOKEN" in message
    assert "123456789" not in message


def test_good_values_are_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIALOGNET_REGISTRATION_PORT", "8111")
    assert environment_settings().registration_port == 8111
