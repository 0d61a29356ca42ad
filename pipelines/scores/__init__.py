"""scores domain of the code location."""
