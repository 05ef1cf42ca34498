// Bronze: K2's Kafka message values (Confluent-framed Avro, JSON) and Bronze Iceberg row mappings.
