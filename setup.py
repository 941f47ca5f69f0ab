"""The optional accelerators, built where a C compiler is: the YAML reader (feeds/reading/_frontmatter.c,
with libyaml's headers: Debian's `apt-get install gcc libyaml-dev`), the article builder
(feeds/reading/_articles.c), the folder survey (feeds/reading/_survey.c) and the item writer
(feeds/render/_items.c). Without them feedpub installs, surveys and reads every file and writes every
item in Python alone. Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "feedpub.reading._frontmatter",
            ["feeds/reading/_frontmatter.c"],
            libraries=["yaml"],
            optional=True,  # a failed build is a warning: the accelerator is only ever a speed-up
        ),
        Extension("feedpub.reading._articles", ["feeds/reading/_articles.c"], optional=True),
        Extension("feedpub.reading._survey", ["feeds/reading/_survey.c"], optional=True),
        Extension("feedpub.render._items", ["feeds/render/_items.c"], optional=True),
    ]
)
