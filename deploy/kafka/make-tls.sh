#!/bin/bash
# One-off, before the brokers: a CA and the brokers' certificate (names kafka-1..3) for the
# compose stack, made once and kept in volumes. The keystore goes to the brokers' volume only;
# the services get the CA certificate alone, to check the brokers (and their host names) with.
set -euo pipefail
: "${KAFKA_TLS_KEYSTORE_PASSWORD:?}"
keystore=/etc/kafka/secrets/kafka.keystore.p12
ca_file=/etc/dialognet/kafka-ca/ca.pem
if [ -s "$keystore" ] && [ -s "$ca_file" ]; then
    echo "TLS material exists"
    exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass=$KAFKA_TLS_KEYSTORE_PASSWORD
days=825

keytool -genkeypair -alias ca -dname "CN=dialognet compose CA" -keyalg RSA -keysize 3072 \
    -validity "$days" -ext bc:c -ext KeyUsage:critical=keyCertSign,cRLSign \
    -storetype PKCS12 -keystore "$work/ca.p12" -storepass "$pass"
keytool -exportcert -rfc -alias ca -keystore "$work/ca.p12" -storepass "$pass" -file "$work/ca.pem"

keytool -genkeypair -alias broker -dname "CN=kafka" -keyalg RSA -keysize 2048 -validity "$days" \
    -storetype PKCS12 -keystore "$work/broker.p12" -storepass "$pass"
keytool -certreq -alias broker -keystore "$work/broker.p12" -storepass "$pass" -file "$work/broker.csr"
keytool -gencert -alias ca -keystore "$work/ca.p12" -storepass "$pass" -rfc -validity "$days" \
    -ext SAN=dns:kafka-1,dns:kafka-2,dns:kafka-3 -ext ExtendedKeyUsage=serverAuth \
    -infile "$work/broker.csr" -outfile "$work/broker.pem"
keytool -importcert -noprompt -alias ca -file "$work/ca.pem" -keystore "$work/broker.p12" -storepass "$pass"
keytool -importcert -alias broker -file "$work/broker.pem" -keystore "$work/broker.p12" -storepass "$pass"

# The brokers run as the image's appuser (uid 1000); the services (uid 10001) read the CA only.
install -m 0640 -o 1000 -g 0 "$work/broker.p12" "$keystore"
install -m 0644 "$work/ca.pem" "$ca_file"
echo "made $keystore and $ca_file"
