"""alerts domain of the code location."""
