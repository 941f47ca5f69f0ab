"""Accelerators kept between runs: each is only a shortcut, so deleting any of them changes no byte
of output. `keys.py` is the one place that decides what invalidates each."""
