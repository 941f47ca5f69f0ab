"""Reading: article files in, clean `Article`s out, with each bad file's reason.

`folder.py` knows the folder on disk, `article_file.py` one file, `library.py` the rules about
files and articles (last good version, duplicates); `loader.py` and `parallel.py` are the
plumbing that reads many files at once, from the parse cache or across processes.
"""
