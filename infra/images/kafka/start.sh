#!/bin/bash
# Writes the broker's properties from defaults for one combined broker+controller node and every
# KAFKA_CFG_<NAME> variable (NAME lower-cased, '_' read as '.': KAFKA_CFG_NUM_PARTITIONS=3 is
# num.partitions=3), formats the KRaft storage on first start, then runs the broker in the foreground.
set -euo pipefail

data=/var/lib/kafka/data
conf=/var/lib/kafka/server.properties

# In a StatefulSet the pod's ordinal (kafka-2 → 2) is its node id unless one is given.
ordinal="${HOSTNAME##*-}"
[[ "$ordinal" =~ ^[0-9]+$ ]] || ordinal=1
node_id="${KAFKA_CFG_NODE_ID:-$ordinal}"
host="$(hostname -f 2>/dev/null || hostname)"

declare -A props=(
  [process.roles]=broker,controller
  [node.id]="$node_id"
  [controller.quorum.voters]="${node_id}@${host}:9093"
  [listeners]=PLAINTEXT://:9092,CONTROLLER://:9093
  [advertised.listeners]="PLAINTEXT://${host}:9092"
  [listener.security.protocol.map]=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
  [controller.listener.names]=CONTROLLER
  [inter.broker.listener.name]=PLAINTEXT
  [log.dirs]="$data"
  [auto.create.topics.enable]=false
  [num.partitions]=1
  [default.replication.factor]=1
  [min.insync.replicas]=1
  [offsets.topic.replication.factor]=1
  [transaction.state.log.replication.factor]=1
  [transaction.state.log.min.isr]=1
  [share.coordinator.state.topic.replication.factor]=1
  [share.coordinator.state.topic.min.isr]=1
  [group.initial.rebalance.delay.ms]=0
  [log.retention.hours]=24
)
while IFS='=' read -r name value; do
  [[ "$name" == KAFKA_CFG_* ]] || continue
  key="${name#KAFKA_CFG_}"
  key="${key,,}"
  props["${key//_/.}"]="$value"
done < <(env)

mkdir -p "$data"
: > "$conf"
for key in "${!props[@]}"; do printf '%s=%s\n' "$key" "${props[$key]}" >> "$conf"; done

classpath='/opt/kafka/libs/*'
if [[ ! -f "$data/meta.properties" ]]; then
  : "${KAFKA_CLUSTER_ID:?set KAFKA_CLUSTER_ID to the cluster id (22 characters, base64url of 16 bytes) every node shares}"
  java -cp "$classpath" kafka.tools.StorageTool format -t "$KAFKA_CLUSTER_ID" -c "$conf"
fi

# shellcheck disable=SC2086 # KAFKA_HEAP_OPTS and KAFKA_JVM_OPTS are lists of flags
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
  -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true ${KAFKA_JVM_OPTS:-} \
  -Dlog4j2.configurationFile=/opt/kafka/log4j2.properties \
  -cp "$classpath" kafka.Kafka "$conf"
