// Avro: binary encoding (Avro 1.11 spec) and object container files (null, deflate, snappy, zstd).
