"""feedpub: a folder of news articles in, RSS 2.0, Atom 1.0 and JSON Feed 1.1 out.

This folder (`feeds/`) is installed as the package `feedpub`; the live server (`server/`) as
`feedpub.server` and the sample articles (`seeds/`) as `feedpub.seeds`, so no file of a user's can
shadow them. The builder is pure and synchronous and never imports Starlette. A build runs in
stages, one subpackage each:

    reading/   article files → clean `Article`s, and the small `Entry` the rest keeps of each
    catalog/   entries → groups (everything, each topic, each provider), newest first
    render/    groups → bytes in every format, plus the index page, OPML and catalog: a `Site`
    stores/    accelerators kept between runs (parse cache, fragment store, saved state, the
               export's record); deleting any of them changes no byte of output

`build.py` runs the stages in order, `export.py` writes a site to a folder, `deploy/` puts one on
S3-compatible object storage, `cli.py` is the command line and `settings.py` the site's settings.
"""
