"""feedpub's builder: article files in, RSS 2.0, Atom 1.0 and JSON Feed 1.1 bytes out.

Pure and synchronous; it never imports Starlette (the live server lives in `server/`).
"""
