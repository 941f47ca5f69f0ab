"""The HTTP protocol under the app: uvicorn's httptools protocol with the limits it lacks
(`bounded.py`), and the optional fast path that answers published feeds before ASGI (`fast_path.py`)."""
