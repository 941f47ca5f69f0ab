"""`python -m feedpub`: the command line."""

from .cli import main

main(prog_name="feedpub")
