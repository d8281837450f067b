#!/bin/bash
# Starts one node of the compose cluster from server.properties: formats its storage on the
# first start (with the services' SCRAM-SHA-512 users, so they exist before any client logs in),
# then runs the broker. A formatted volume is left as it is: change a password on a running
# cluster with kafka-configs.sh (docs/operations.md, "Rotating Kafka credentials").
set -euo pipefail
: "${NODE_ID:?}" "${CLUSTER_ID:?}" "${KAFKA_TLS_KEYSTORE_PASSWORD:?}"
: "${KAFKA_REGISTRATION_PASSWORD:?}" "${KAFKA_NOTIFICATION_PASSWORD:?}" "${KAFKA_REPORTING_PASSWORD:?}"

config=/tmp/server.properties
umask 077
sed -e "s|@NODE_ID@|${NODE_ID}|g" -e "s|@KEYSTORE_PASSWORD@|${KAFKA_TLS_KEYSTORE_PASSWORD}|g" \
    /etc/dialognet/kafka/server.properties > "$config"

/opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" --config "$config" \
    --add-scram "SCRAM-SHA-512=[name=registration,password=${KAFKA_REGISTRATION_PASSWORD}]" \
    --add-scram "SCRAM-SHA-512=[name=notification,password=${KAFKA_NOTIFICATION_PASSWORD}]" \
    --add-scram "SCRAM-SHA-512=[name=reporting,password=${KAFKA_REPORTING_PASSWORD}]"

exec /opt/kafka/bin/kafka-server-start.sh "$config"
