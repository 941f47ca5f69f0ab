"""The catalog: which articles belong to which feed, and each feed's newest items."""
