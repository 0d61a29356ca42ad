"""Landing files → validated daily partitions of the Parquet lake, with quarantine."""
