"""`python -m feedpub`: the command line, as the console script runs it."""

from .cli import run

run()
