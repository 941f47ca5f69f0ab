"""feedpub's live server (installed as `feedpub.server`): a Starlette app over a published site.

`app.py` answers requests (with the pure HTTP rules in `http.py`, over the prepared responses of
`published.py`); `live/` keeps the site current; `protocol/` is the HTTP protocol under it; `run.py`
starts it all with uvicorn.
"""
