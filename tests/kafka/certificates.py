"""A throwaway CA and the brokers' certificate (127.0.0.1, localhost), made for one test session:
the broker reads them as PEM (ssl.keystore.type=PEM), the services trust the CA file."""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_FOR = datetime.timedelta(days=2)


@dataclass(frozen=True)
class BrokerTls:
    ca_file: Path  # the CA certificate: DIALOGNET_KAFKA_SSL_CAFILE
    keystore_file: Path  # the broker's unencrypted PKCS#8 key and its certificate, PEM


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    public_key: ec.EllipticCurvePublicKey,
    issuer: str,
    signing_key: ec.EllipticCurvePrivateKey,
    *,
    ca: bool,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_broker_tls(folder: Path) -> BrokerTls:
    """Write a CA and a broker certificate it signed into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate(
        "dialognet test CA", ca_key.public_key(), "dialognet test CA", ca_key, ca=True
    )
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker = _certificate(
        "dialognet test broker", broker_key.public_key(), "dialognet test CA", ca_key, ca=False
    )
    pem = serialization.Encoding.PEM
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(pem))
    keystore_file = folder / "broker.pem"
    # Kafka's PEM keystore takes a PKCS#8 key; unencrypted, so no ssl.key.password is needed.
    key = broker_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    keystore_file.write_bytes(key + broker.public_bytes(pem) + ca.public_bytes(pem))
    keystore_file.chmod(0o600)
    return BrokerTls(ca_file, keystore_file)
