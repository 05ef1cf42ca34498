// Kafka: a small Swift surface over librdkafka (producer, consumer, metadata) and its mock cluster.
