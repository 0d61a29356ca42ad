"""Reference snapshots: accounts, parties, watchlist, address tags, SAR filings."""
