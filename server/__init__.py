"""feedpub's live server: a Starlette app over a `feeds.site.Site`, kept current by a folder watcher."""
