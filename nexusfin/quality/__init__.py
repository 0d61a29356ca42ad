"""Quality suites derived from the data contracts (Great Expectations 1.x, imported lazily)."""
