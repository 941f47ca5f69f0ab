"""WebSub for the live server (installed as `feedpub.server.websub`): a hub built in (`hub`,
`delivery`, `subscriptions`, `addresses`) and publish pings to outside hubs (`ping`, over the client
in `feedpub.pings`, which `feedpub export` uses too), tied together in `service`.

What the server calls (`service.WebSub`): `WebSub.for_site(...)`, then `announce(published)` after
each swap (`Rebuilder.on_published`), `start()`/`stop()` in the lifespan, `hub.endpoint` for the
`/websub` route, `status()` for `/healthz`. Discovery (the `Link` header, which hubs a feed names)
and which documents are topics are pure, in `feedpub.render.websub`.
"""
