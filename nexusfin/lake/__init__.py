"""The lake: landing files validated into daily Parquet partitions, with quarantine."""
