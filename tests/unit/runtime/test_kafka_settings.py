"""The Kafka security settings: combinations that cannot work are refused at start-up, naming the
variables (never the password), and every client gets the same protocol, login and TLS."""

import ssl
from pathlib import Path

import pytest
from faststream.security import SASLScram512

from services.runtime import kafka
from services.runtime.settings import SettingsError, environment_settings

PASSWORD = "s3cret-scram-password"


def sasl_ssl(monkeypatch: pytest.MonkeyPatch, cafile: Path) -> None:
    monkeypatch.setenv("DIALOGNET_KAFKA_BOOTSTRAP", "127.0.0.1:9093")
    monkeypatch.setenv("DIALOGNET_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("DIALOGNET_KAFKA_SASL_USERNAME", "registration")
    monkeypatch.setenv("DIALOGNET_KAFKA_SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("DIALOGNET_KAFKA_SSL_CAFILE", str(cafile))


@pytest.fixture
def cafile(tmp_path: Path) -> Path:
    # Any readable CA bundle: the system's, else the one Python was built with.
    found = ssl.get_default_verify_paths().cafile or ssl.get_default_verify_paths().openssl_cafile
    assert found is not None
    path = tmp_path / "ca.pem"
    path.write_bytes(Path(found).read_bytes())
    return path


def refusal(**overrides: object) -> str:
    with pytest.raises(SettingsError) as raised:
        environment_settings(**overrides)
    return str(raised.value)


def test_sasl_without_credentials_names_what_is_missing() -> None:
    message = refusal(kafka_security_protocol="SASL_SSL", kafka_sasl_username="registration")
    assert message == (
        "invalid settings: DIALOGNET_KAFKA_SECURITY_PROTOCOL=SASL_SSL needs "
        "DIALOGNET_KAFKA_SASL_PASSWORD"
    )


def test_credentials_without_sasl_are_refused_not_ignored() -> None:
    message = refusal(kafka_sasl_username="registration", kafka_sasl_password=PASSWORD)
    assert "DIALOGNET_KAFKA_SASL_USERNAME and DIALOGNET_KAFKA_SASL_PASSWORD set" in message
    assert "PLAINTEXT sends no credentials" in message
    assert PASSWORD not in message


def test_a_cafile_needs_tls_and_must_exist(tmp_path: Path) -> None:
    assert "uses no TLS" in refusal(kafka_ssl_cafile=tmp_path / "ca.pem")
    missing = tmp_path / "missing.pem"
    message = refusal(kafka_security_protocol="SSL", kafka_ssl_cafile=missing)
    assert message == f"invalid settings: DIALOGNET_KAFKA_SSL_CAFILE={missing}: no such file"


def test_min_insync_above_replication_is_refused() -> None:
    message = refusal(kafka_replication_factor=2, kafka_min_insync_replicas=3)
    assert "DIALOGNET_KAFKA_MIN_INSYNC_REPLICAS=3 is more than" in message
    assert "DIALOGNET_KAFKA_REPLICATION_FACTOR=2" in message


def test_an_unknown_protocol_is_refused_by_name() -> None:
    assert "DIALOGNET_KAFKA_SECURITY_PROTOCOL='SASL'" in refusal(kafka_security_protocol="SASL")


def test_the_password_is_never_in_a_refusal(monkeypatch: pytest.MonkeyPatch, cafile: Path) -> None:
    sasl_ssl(monkeypatch, cafile)
    monkeypatch.setenv("DIALOGNET_KAFKA_MIN_INSYNC_REPLICAS", "2")
    message = refusal()
    assert "MIN_INSYNC_REPLICAS=2" in message
    assert PASSWORD not in message


def test_every_client_logs_in_the_same_way(monkeypatch: pytest.MonkeyPatch, cafile: Path) -> None:
    sasl_ssl(monkeypatch, cafile)
    settings = environment_settings()
    producer = kafka.producer_options(settings)
    assert producer["acks"] == "all"
    assert producer["security_protocol"] == "SASL_SSL"
    assert producer["sasl_mechanism"] == "SCRAM-SHA-512"
    assert producer["sasl_plain_username"] == "registration"
    assert producer["sasl_plain_password"] == PASSWORD
    context = producer["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname
    security = kafka.broker_security(settings)
    assert isinstance(security, SASLScram512)
    assert (security.username, security.password, security.use_ssl) == (
        "registration",
        PASSWORD,
        True,
    )


def test_plaintext_by_default() -> None:
    settings = environment_settings(kafka_bootstrap="127.0.0.1:9092")
    assert kafka.connection_options(settings) == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert kafka.broker_security(settings) is None
