"""The optional YAML accelerator (feeds/reading/_frontmatter.c), built where a C compiler and
libyaml's headers are (Debian: `apt-get install gcc libyaml-dev`); without them feedpub installs
and reads front matter through PyYAML alone. Everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "feedpub.reading._frontmatter",
            ["feeds/reading/_frontmatter.c"],
            libraries=["yaml"],
            optional=True,  # a failed build is a warning: the accelerator is only ever a speed-up
        )
    ]
)
