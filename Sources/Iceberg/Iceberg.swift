// Iceberg: table spec types, metadata, manifests, FileIO (local, S3), catalogs (SQL, REST), append, scan.
