// Parquet: a writer and reader of Parquet files (format 2.x thrift footer, data pages v1/v2).
