"""Kafka clients configured one way for every service: where the brokers are and how to reach
them (TLS, SASL) from settings, acks=all producers, consumers, admin clients and the FastStream
broker. Nothing else in the services constructs a Kafka client."""

import logging
import ssl
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    SaslAuthenticationFailed,
    UnsupportedSaslMechanismError,
)
from faststream.kafka import KafkaBroker
from faststream.security import (
    BaseSecurity,
    SASLPlaintext,
    SASLScram256,
    SASLScram512,
)

from services.runtime.log_privacy import hold_payload_loggers
from services.runtime.settings import Settings

_SASL_SECURITY: dict[str, type[SASLPlaintext | SASLScram256 | SASLScram512]] = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """Verifies the brokers' certificates and host names against DIALOGNET_KAFKA_SSL_CAFILE
    (or the system's CAs); None when the protocol uses no TLS."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    cafile = settings.kafka_ssl_cafile
    return ssl.create_default_context(cafile=str(cafile) if cafile else None)


def security_options(settings: Settings) -> dict[str, Any]:
    """aiokafka's keyword arguments for the protocol, the SASL login and the TLS context."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    context = tls_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if settings.kafka_security_protocol.startswith("SASL_"):
        username, password = _sasl_login(settings)
        options |= {
            "sasl_mechanism": settings.kafka_sasl_mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    return options


def _sasl_login(settings: Settings) -> tuple[str, str]:
    username, password = settings.kafka_sasl_username, settings.kafka_sasl_password
    # The settings refuse a SASL protocol without both.
    assert username is not None
    assert password is not None
    return username, password.get_secret_value()


class KafkaLoginRefused(RuntimeError):
    """The brokers refused this service's login or certificate check; the message says which
    settings to look at (never the password)."""


async def check_login(settings: Settings) -> None:
    """Log in to the first broker that answers, or KafkaLoginRefused.

    aiokafka's clients log a refused login and try again, until they give up with "Unable to
    bootstrap": the reason would be lost among retries. A broker that does not answer is left
    to the clients (their retries are right for that)."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return  # nothing to be refused
    options = security_options(settings)
    for server in settings.bootstrap().split(","):
        host, port = server.strip().rsplit(":", 1)
        try:
            conn = await create_conn(host, int(port), request_timeout_ms=10_000, **options)
        except (SaslAuthenticationFailed, AuthenticationFailedError) as error:
            raise KafkaLoginRefused(
                f"Kafka at {server} refused the login of user {settings.kafka_sasl_username!r} "
                f"({settings.kafka_sasl_mechanism}): {error.args[0] if error.args else error}; "
                "check DIALOGNET_KAFKA_SASL_USERNAME and DIALOGNET_KAFKA_SASL_PASSWORD"
            ) from None
        except UnsupportedSaslMechanismError as error:
            raise KafkaLoginRefused(
                f"Kafka at {server} does not take {settings.kafka_sasl_mechanism}: {error}; "
                "check DIALOGNET_KAFKA_SASL_MECHANISM"
            ) from None
        except ssl.SSLCertVerificationError as error:
            raise KafkaLoginRefused(
                f"the certificate of Kafka at {server} is not trusted ({error.verify_message}); "
                "check DIALOGNET_KAFKA_SSL_CAFILE"
            ) from None
        except (OSError, TimeoutError):
            continue
        conn.close()
        return


def connection_options(settings: Settings) -> dict[str, Any]:
    """Where the brokers are and how to log in: what every client takes."""
    hold_payload_loggers()  # aiokafka's DEBUG lines hold each record whole
    return {"bootstrap_servers": settings.bootstrap(), **security_options(settings)}


def producer_options(settings: Settings) -> dict[str, Any]:
    # acks=all always; idempotence is off by default because Tansu refuses InitProducerId.
    # Exactly-once comes from outbox + inbox, not from broker transactions.
    return {
        **connection_options(settings),
        "acks": "all",
        "enable_idempotence": settings.kafka_enable_idempotence,
        "linger_ms": 0,
    }


def consumer_options(settings: Settings) -> dict[str, Any]:
    """What a subscription of the service's broker takes (the connection is the broker's)."""
    return {
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": settings.kafka_session_timeout_ms,
        "heartbeat_interval_ms": max(settings.kafka_session_timeout_ms // 5, 100),
    }


def new_producer(settings: Settings) -> AIOKafkaProducer:
    return AIOKafkaProducer(**producer_options(settings))


def new_consumer(settings: Settings, **options: Any) -> AIOKafkaConsumer:
    """A consumer outside the service's broker (offsets, a rebuild's reader), with `options`."""
    return AIOKafkaConsumer(**connection_options(settings), **options)


def new_admin(settings: Settings, **options: Any) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**connection_options(settings), **options)


def broker_security(settings: Settings) -> BaseSecurity | None:
    """The same protocol, login and TLS context as `security_options`, as FastStream takes them."""
    protocol, context = settings.kafka_security_protocol, tls_context(settings)
    if protocol == "PLAINTEXT":
        return None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    return _SASL_SECURITY[settings.kafka_sasl_mechanism](
        *_sasl_login(settings),
        ssl_context=context,
        use_ssl=protocol == "SASL_SSL",
    )


def new_broker(settings: Settings, *, middlewares: Any = ()) -> KafkaBroker:
    """The service's FastStream broker: its subscriptions' consumers and its publisher."""
    hold_payload_loggers()  # aiokafka's DEBUG lines hold each record whole
    return KafkaBroker(
        # A list: FastStream hands a string on as one host, so "a:9093,b:9093" (which aiokafka
        # itself splits) could not be resolved.
        [server.strip() for server in settings.bootstrap().split(",")],
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        security=broker_security(settings),
        middlewares=middlewares,
        log_level=logging.DEBUG,  # FastStream logs each message at this level
    )
