"""The staff token `dialognet up` generates (private file, reused on later starts), and the
catalog of services it starts."""

import stat
from pathlib import Path

from pydantic import SecretStr

from services.cli.service_catalog import PLATFORM_SERVICES, SERVE, ServiceName
from services.runtime.data_dir import admin_token
from services.runtime.platform import PlatformService
from services.runtime.settings import ADMIN_TOKEN_FILE, Settings


def test_token_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=None)
    first = admin_token(settings)
    stored = tmp_path / ADMIN_TOKEN_FILE
    assert len(first) >= 40
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert admin_token(settings) == first


def test_configured_token_wins_and_is_not_stored(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=SecretStr("from-env"))
    assert admin_token(settings) == "from-env"
    assert not (tmp_path / ADMIN_TOKEN_FILE).exists()


def test_every_service_has_a_url_from_its_port_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, registration_port=18001)
    [registration] = [s for s in PLATFORM_SERVICES if s.name == "registration"]
    assert registration.url(settings) == "http://127.0.0.1:18001"
    assert all(s.url(settings).startswith("http://127.0.0.1:") for s in PLATFORM_SERVICES)


def test_every_service_up_starts_can_be_run_alone() -> None:
    names = {service.name for service in PLATFORM_SERVICES}
    assert names == set(SERVE) == {name.value for name in ServiceName}


def _mailbox() -> PlatformService:
    [mailbox] = [s for s in PLATFORM_SERVICES if s.name == "mailbox"]
    return mailbox


def test_the_mailbox_runs_only_when_no_mail_relay_is_configured(tmp_path: Path) -> None:
    mailbox = _mailbox()
    assert mailbox.enabled(Settings(data_dir=tmp_path, smtp_url=None))
    assert mailbox.enabled(Settings(data_dir=tmp_path, smtp_url=SecretStr("")))
    assert not mailbox.enabled(Settings(data_dir=tmp_path, smtp_url=SecretStr("smtp://relay:25")))


def test_the_mailbox_sends_every_service_its_mail(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, mailbox_port=18025, mailbox_smtp_port=11025)
    assert _mailbox().environment(settings) == {"DIALOGNET_SMTP_URL": "smtp://127.0.0.1:11025"}
    assert _mailbox().url(settings) == "http://127.0.0.1:18025"
    assert _mailbox().other_port_settings == ("mailbox_smtp_port",)
