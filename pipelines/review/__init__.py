"""review domain of the code location: the analysts' decisions read back from the review app."""
