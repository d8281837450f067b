"""Library loggers that write message contents at their chattier levels, held above those levels
whatever the service's log level: personal data and cancel tokens stay out of logs."""

import logging

# Each with the level it is held at, and what it would write below it.
PAYLOAD_LOGGERS = {
    # aiokafka's producer logs every record it sends at DEBUG, key and value whole: a
    # registration.made with the contact's name, e-mail and cancel token (seen by
    # tests/security/test_secrets_in_logs.py). Its INFO and up are about connections and groups.
    "aiokafka": logging.INFO,
    # aiosmtpd logs every SMTP command at INFO, the addresses of MAIL FROM and RCPT TO included.
    "mail.log": logging.WARNING,
}


def hold_payload_loggers() -> None:
    """Raise each payload logger to its level (never lowers one an operator set higher)."""
    for name, level in PAYLOAD_LOGGERS.items():
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)
