#!/bin/bash
# One-off after the brokers are up (kafka-setup in compose.yaml): the platform's topics from
# topics.tsv and the services' ACLs from acls.tsv, over the internal PLAINTEXT listener. Safe to
# run again: existing topics get the settings of the file, existing ACLs stay.
set -euo pipefail
bootstrap=kafka-1-internal:19092,kafka-2-internal:19092,kafka-3-internal:19092
bin=/opt/kafka/bin
here=/etc/dialognet/kafka

while IFS=$'\t' read -r topic partitions retention segment; do
    case $topic in '' | '#'*) continue ;; esac
    "$bin/kafka-topics.sh" --bootstrap-server "$bootstrap" --create --if-not-exists \
        --topic "$topic" --partitions "$partitions" --replication-factor 3 \
        --config min.insync.replicas=2
    "$bin/kafka-configs.sh" --bootstrap-server "$bootstrap" --alter --entity-type topics \
        --entity-name "$topic" --add-config "retention.ms=$retention,segment.ms=$segment"
done < "$here/topics.tsv"

# One kafka-acls.sh run (one JVM) per principal, resource type, pattern and operation.
declare -A names
while IFS=$'\t' read -r principal resource pattern name operation; do
    case $principal in '' | '#'*) continue ;; esac
    key="$principal"$'\t'"$resource"$'\t'"$pattern"$'\t'"$operation"
    names[$key]+=" --${resource,,} $name"
done < "$here/acls.tsv"
for key in "${!names[@]}"; do
    IFS=$'\t' read -r principal _resource pattern operation <<< "$key"
    # The resource flags are separate words on purpose.
    # shellcheck disable=SC2086
    "$bin/kafka-acls.sh" --bootstrap-server "$bootstrap" --add --allow-principal "$principal" \
        --operation "$operation" --resource-pattern-type "${pattern,,}" ${names[$key]}
done
echo "topics and ACLs in place"
