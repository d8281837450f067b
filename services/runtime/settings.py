"""Settings from DIALOGNET_* variables, falling back to the platform file `dialognet up` writes."""

import json
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from schemas.topics import DEFAULT_PREFIX

PLATFORM_FILE = "platform.json"
# Written by `dialognet up` with mode 0600; never part of platform.json or the logs.
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 (a file name, not a secret)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DIALOGNET_", extra="ignore")

    data_dir: Path = Field(
        default=Path(".dialognet"), description="Where `dialognet up` keeps its state"
    )
    kafka_bootstrap: str | None = None
    kafka_port: int = Field(default=9092, ge=1, le=65535)  # embedded broker of `dialognet up`
    database_url: SecretStr | None = None
    registration_database_url: SecretStr | None = None
    reporting_database_url: SecretStr | None = None
    # The access store (tokens every service accepts); unset: the shared database_url.
    access_database_url: SecretStr | None = None
    smtp_url: SecretStr | None = None
    topic_prefix: str = DEFAULT_PREFIX

    # Tansu answers a waiting fetch only when this runs out: keep it low (see DESIGN.md).
    kafka_fetch_max_wait_ms: int = Field(default=10, ge=1, le=5000)
    # Commands from other systems tolerate a little more; polling an idle topic every 10 ms
    # costs the service and the broker CPU that the HTTP path needs.
    kafka_intake_fetch_max_wait_ms: int = Field(default=50, ge=1, le=5000)
    # Off by default because Tansu refuses InitProducerId; on against Apache Kafka.
    kafka_enable_idempotence: bool = False
    # Topics the services create at start-up get these (3 and 2 on a three-broker cluster:
    # acks=all then waits for two copies, and one broker may be down without refusing writes).
    kafka_replication_factor: int = Field(default=1, ge=1)
    # Unset: the broker's default (1).
    kafka_min_insync_replicas: int | None = Field(default=None, ge=1)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    # The CA the brokers' certificates are checked against; unset: the system's CAs.
    kafka_ssl_cafile: Path | None = None
    # Tansu completes a group join after half the session timeout; tests use a short one.
    kafka_session_timeout_ms: int = Field(default=10_000, ge=1000)
    # Consumer groups are named `<prefix><consumer>`: `notification`, `reporting`,
    # `registration-intake` by default (ACLs name them); tests give each platform its own.
    kafka_consumer_group_prefix: str = ""

    admin_token: SecretStr | None = None
    # How long a service trusts a token's role before asking the database again: the longest
    # a revoked token still works.
    token_cache_seconds: float = Field(default=30.0, ge=0)
    # Unknown or revoked tokens one client address may present per minute (bursts up to the same
    # number); beyond that it gets 429 without a lookup, so guessing costs the database nothing.
    failed_token_lookups_per_minute: int = Field(default=20, ge=1)
    # Lookups of tokens not in the cache at once, per process: however many made-up tokens
    # arrive, they hold at most this many database connections (the pool has db_pool_max_size).
    # One is plenty: it served 3,900-5,900 lookups/s here, and a known token is looked up once
    # per token_cache_seconds.
    token_lookup_concurrency: int = Field(default=1, ge=1)
    registration_host: str = "127.0.0.1"
    registration_port: int = Field(default=8001, ge=1, le=65535)
    # Processes serving the registration HTTP API, each a full replica of the service.
    registration_workers: int = Field(default=1, ge=1, le=64)
    public_base_url: str = "http://127.0.0.1:8001"
    # How long a sign-in to the staff console (/staff/) lasts: the session cookie's signed
    # expiry. A working day, as the dashboard's; a revoked token ends it sooner.
    staff_session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    # Anonymous registrations per minute per client address (bursts up to the same number);
    # generous, since organisations may register from one address (a venue, a provider's NAT).
    public_rate_limit_per_minute: int = Field(default=300, ge=1)
    # X-Forwarded-For is read only with this on, and only from a peer among trusted_proxies.
    trust_forwarded_for: bool = False
    # Our proxies, comma-separated addresses or CIDR networks (default: loopback).
    trusted_proxies: Annotated[tuple[IPv4Network | IPv6Network, ...], NoDecode] = (
        IPv4Network("127.0.0.0/8"),
        IPv6Network("::1/128"),
    )

    # The notification service: e-mail to partners and registrants.
    notification_database_url: SecretStr | None = None
    notification_host: str = "127.0.0.1"
    notification_port: int = Field(default=8002, ge=1, le=65535)
    # Where people reach this service (the unsubscribe links in invitations).
    notification_public_base_url: str = "http://127.0.0.1:8002"
    # The sender of every e-mail; replies go here too, so a mailbox people read.
    mail_from: str = "Dialognetzwerk <dialognetz@example.org>"
    # Where the staff note about an organisation's interest goes; unset: no note.
    staff_mailbox: str | None = None
    # The reminder goes this long before a forum starts (default two days).
    notification_reminder_lead_seconds: int = Field(default=172_800, ge=0)
    # An event older than this when processed causes no e-mail (e.g. a start on a long history).
    notification_max_age_seconds: int = Field(default=604_800, ge=1)
    # Facts applied in one transaction at most (one commit a fetch, not a fact: the consumer
    # kept up with 76 facts/s one at a time, bench/notifications.py), and how long the consumer
    # waits for a fetch to fill (a fetch returns what is there at once).
    notification_batch_max_records: int = Field(default=200, ge=1, le=10_000)
    notification_batch_timeout_ms: int = Field(default=10, ge=1, le=5000)
    # How long a transient SMTP failure is retried (with backoff) before the mail is failed.
    notification_retry_for_seconds: int = Field(default=86_400, ge=1)
    # SMTP connections kept open and reused, per process.
    notification_smtp_connections: int = Field(default=2, ge=1, le=32)
    # The sender and the reminders look for due work this often when nothing wakes them.
    notification_poll_interval_seconds: float = Field(default=1.0, gt=0)
    # A delivery left `sending` this long (its process died mid-send) is sent again, with the
    # same Message-ID.
    notification_sending_timeout_seconds: float = Field(default=120.0, gt=0)
    # How long the relay waits after a commit woke it before publishing, so that the
    # notification.sent/failed facts of the mails finished meanwhile go in one round (as a
    # Kafka producer's linger.ms). Without it every mail's fact had a round of its own, five
    # statements and a produce request: a quarter of the service's CPU (bench/README.md).
    # Nobody waits for these facts; the registration service's relay lingers not at all.
    notification_outbox_linger_ms: float = Field(default=100.0, ge=0, le=10_000)

    # The reporting service: read models, metrics, reports and the dashboard.
    reporting_host: str = "127.0.0.1"
    reporting_port: int = Field(default=8003, ge=1, le=65535)
    # Where staff open the dashboard; https makes its session and CSRF cookies `Secure`.
    reporting_public_base_url: str = "http://127.0.0.1:8003"
    # Scrapes within this many seconds of the last one get the same numbers: each computes
    # them from the read models (a handful of aggregate queries) and asks Kafka for the lag.
    reporting_metrics_cache_seconds: float = Field(default=5.0, ge=0)
    # Events applied in one transaction at most: one commit per batch instead of per event is
    # what makes the projections keep up (bench/projections.py).
    reporting_batch_max_records: int = Field(default=500, ge=1, le=10_000)
    # How long the projection consumer waits for a batch to fill; with Tansu's fetch wait it
    # bounds the event → projection latency when events trickle in.
    reporting_batch_timeout_ms: int = Field(default=10, ge=1, le=5000)
    # How long a staff sign-in on the dashboard lasts (the session cookie's signed expiry).
    reporting_session_hours: float = Field(default=8.0, gt=0, le=24 * 30)
    # How often the dashboard page fetches fresh numbers.
    reporting_dashboard_refresh_seconds: int = Field(default=15, ge=2, le=3600)

    db_pool_min_size: int = Field(default=2, ge=1)
    # Small on purpose: (2 x database cores) + 1 keeps lock waiters on a hot forum row few;
    # measured here, 5 answers registrations faster than 10 (bench/README.md).
    db_pool_max_size: int = Field(default=5, ge=1)
    outbox_poll_interval_seconds: float = Field(default=1.0, gt=0)
    outbox_batch_size: int = Field(default=500, ge=1)
    log_level: str = "INFO"

    # The embedded mail sink (services/runtime/mailbox), which `dialognet up` starts only when
    # DIALOGNET_SMTP_URL is unset: SMTP and its web view on one host.
    mailbox_host: str = "127.0.0.1"
    mailbox_port: int = Field(default=8025, ge=1, le=65535)
    mailbox_smtp_port: int = Field(default=1025, ge=1, le=65535)
    # Larger messages are refused (552); the SIZE advertised in EHLO lets a client know before
    # it sends. 10 MiB is more than any notification with its .ics needs.
    mailbox_max_message_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated_networks(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        networks = []
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                networks.append(ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"{entry!r} is no IP address or CIDR network") from None
        return tuple(networks)

    @model_validator(mode="after")
    def _sasl_credentials_match_protocol(self) -> Self:
        """Refuse credentials that would be missing, or silently not sent."""
        protocol = self.kafka_security_protocol
        credentials = {
            "DIALOGNET_KAFKA_SASL_USERNAME": self.kafka_sasl_username,
            "DIALOGNET_KAFKA_SASL_PASSWORD": self.kafka_sasl_password,
        }
        given = [name for name, value in credentials.items() if value]
        missing = [name for name in credentials if name not in given]
        if protocol.startswith("SASL_") and missing:
            raise ValueError(
                f"DIALOGNET_KAFKA_SECURITY_PROTOCOL={protocol} needs {' and '.join(missing)}"
            )
        if not protocol.startswith("SASL_") and given:
            raise ValueError(
                f"{' and '.join(given)} set, but DIALOGNET_KAFKA_SECURITY_PROTOCOL={protocol} "
                "sends no credentials: set it to SASL_SSL (or SASL_PLAINTEXT)"
            )
        return self

    @model_validator(mode="after")
    def _cafile_usable(self) -> Self:
        cafile, protocol = self.kafka_ssl_cafile, self.kafka_security_protocol
        if cafile is not None and not protocol.endswith("SSL"):
            raise ValueError(
                f"DIALOGNET_KAFKA_SSL_CAFILE set, but DIALOGNET_KAFKA_SECURITY_PROTOCOL="
                f"{protocol} uses no TLS: set it to SASL_SSL (or SSL)"
            )
        if cafile is not None and not cafile.is_file():
            raise ValueError(f"DIALOGNET_KAFKA_SSL_CAFILE={cafile}: no such file")
        return self

    @model_validator(mode="after")
    def _min_insync_within_replicas(self) -> Self:
        minimum, replicas = self.kafka_min_insync_replicas, self.kafka_replication_factor
        if minimum is not None and minimum > replicas:
            # With acks=all every write would be refused (NotEnoughReplicas).
            raise ValueError(
                f"DIALOGNET_KAFKA_MIN_INSYNC_REPLICAS={minimum} is more than "
                f"DIALOGNET_KAFKA_REPLICATION_FACTOR={replicas}: no write could ever succeed"
            )
        return self

    def service_database_url(self, service: str) -> str:
        """The database of one service (or of the access store, "access"): its own override,
        else the shared one."""
        override: SecretStr | None = getattr(self, f"{service}_database_url", None)
        chosen = override or self.database_url
        if chosen is None:
            raise PlatformNotFound(
                f"no database configured for {service}: start `dialognet up` "
                f"(data dir {self.data_dir}) or set DIALOGNET_DATABASE_URL"
            )
        return chosen.get_secret_value()

    def bootstrap(self) -> str:
        if not self.kafka_bootstrap:
            raise PlatformNotFound(
                f"no Kafka broker configured: start `dialognet up` (data dir {self.data_dir}) "
                "or set DIALOGNET_KAFKA_BOOTSTRAP"
            )
        return self.kafka_bootstrap


class PlatformNotFound(RuntimeError):
    """Neither DIALOGNET_* settings nor a running `dialognet up` say where the infrastructure is."""


class SettingsError(ValueError):
    """A DIALOGNET_* setting has a value it cannot take; the message names each one."""


def environment_settings(**overrides: Any) -> Settings:
    """Settings from the environment (and `overrides`), or SettingsError naming each bad one."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        raise SettingsError(_describe(error)) from None


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        if not problem["loc"]:
            # A check of several settings together: its message names them; the input is
            # every setting, secrets included, so it is never shown.
            lines.append(str(problem["msg"]).removeprefix("Value error, "))
            continue
        name = str(problem["loc"][0])
        variable = f"DIALOGNET_{name.upper()}"
        field = Settings.model_fields.get(name)
        # Secrets (URLs with passwords, tokens) are never echoed back.
        secret = field is not None and field.annotation == SecretStr | None
        shown = "" if secret else f"={problem.get('input')!r}"
        lines.append(f"{variable}{shown}: {problem['msg']}")
    return "invalid settings: " + "; ".join(lines)


def platform_file(data_dir: Path) -> Path:
    return data_dir / PLATFORM_FILE


def load_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    """Environment first; what is unset there comes from `<data_dir>/platform.json`, if present."""
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    base = environment_settings(**overrides)
    recorded = read_platform(base.data_dir)
    filled = {
        name: value
        for name, value in recorded.items()
        if name in Settings.model_fields and getattr(base, name) is None
    }
    token_path = base.data_dir / ADMIN_TOKEN_FILE
    if base.admin_token is None and token_path.exists():
        filled["admin_token"] = token_path.read_text().strip()
    return base.model_copy(update=_typed(filled)) if filled else base


def _typed(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: SecretStr(value)
        if Settings.model_fields[name].annotation == SecretStr | None
        else value
        for name, value in values.items()
    }


def read_platform(data_dir: Path) -> dict[str, Any]:
    path = platform_file(data_dir)
    if not path.exists():
        return {}
    recorded: dict[str, Any] = json.loads(path.read_text())
    return recorded
