"""The Dagster code location of nexusfin (`dagster dev -m pipelines.definitions`)."""
