"""The look of the HTML pages (the front page and each feed's page): one stylesheet, inlined.

Readable on a phone and a desktop (nothing wider than the screen: lists wrap, long words break),
light and dark by `prefers-color-scheme`, with WCAG AA contrast in both (the lightest text is
7:1 on its background) and a visible focus ring on everything that takes focus.
"""

from html import escape

STYLE = (
    ":root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--muted:#575757;--link:#0b57d0;--line:#d4d4d4;"
    "--card:#f5f6f8;--focus:#b3261e}"
    "@media (prefers-color-scheme:dark){:root{--bg:#121212;--fg:#ececec;--muted:#b8b8b8;--link:#8ab4f8;"
    "--line:#3d3d3d;--card:#1d1e20;--focus:#ffb4ab}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}"
    ".wrap{max-width:66rem;margin:0 auto;padding:0 1rem}"
    "a{color:var(--link)}"
    ":focus-visible{outline:3px solid var(--focus);outline-offset:2px}"
    ".skip{position:absolute;left:-100vw}.skip:focus{left:1rem;top:.5rem;background:var(--bg);padding:.4rem .6rem}"
    "header.site{border-bottom:1px solid var(--line);padding:1rem 0 .75rem}"
    "h1{font-size:1.75rem;line-height:1.2;margin:.25rem 0}h2{font-size:1.3rem;margin:1.75rem 0 .5rem}"
    "h3{font-size:1.05rem;margin:0 0 .2rem}"
    "p{margin:.4rem 0}.muted{color:var(--muted)}"
    "ul.inline{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;gap:.3rem 1.1rem}"
    "ul.feeds{list-style:none;padding:0;margin:.5rem 0;display:grid;"
    "grid-template-columns:repeat(auto-fill,minmax(min(19rem,100%),1fr));gap:.6rem}"
    "ul.feeds>li{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.55rem .75rem;"
    "overflow-wrap:anywhere}"
    "ol.items,ul.latest{list-style:none;padding:0;margin:0}"
    "ol.items>li,ul.latest>li{border-bottom:1px solid var(--line);padding:.7rem 0;overflow-wrap:anywhere}"
    "ol.items>li{display:flow-root}"
    "ol.items img{float:right;width:min(9rem,30%);height:auto;aspect-ratio:4/3;object-fit:cover;border-radius:.4rem;"
    "margin:.2rem 0 .4rem .9rem;background:var(--card)}"
    "form.shape{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(15rem,100%),1fr));gap:.6rem 1rem}"
    "label{display:block;font-weight:600}"
    "input,select{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--muted);border-radius:.3rem;"
    "padding:.3rem .45rem;width:100%}"
    "input[type=checkbox]{width:auto}"
    "output,code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}"
    "footer{border-top:1px solid var(--line);margin-top:2rem;padding:1rem 0}"
)


def page_head(language: str, *, title: str, description: str, links: str, style: str = STYLE) -> str:
    """An HTML page from its doctype to `</head>`: `title` and `description` are plain text (escaped
    here), `links` is markup (the page's autodiscovery links), `style` its stylesheet."""
    return f"""<!doctype html>
<html lang="{escape(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>{escape(title)}</title>
<meta name="description" content="{escape(description)}">
{links}
<style>{style}</style>
</head>
"""
