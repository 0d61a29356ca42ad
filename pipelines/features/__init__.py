"""features domain of the code location."""
