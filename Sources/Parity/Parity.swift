// Parity: offset and row-count parity between Bronze tables, Kafka and capture logs.
