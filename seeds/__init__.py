"""The sample articles bundled with feedpub: the default input of `feedpub serve` and `export`."""
