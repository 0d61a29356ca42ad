"""models domain of the code location."""
