"""Rendering: feeds into bytes in every format (declared once in `formats.py`), plus the pages
that list every feed; `site.py` puts them together into the `Site` both server and export use."""
