"""A transport that records what an HTTP protocol writes, for driving one byte by byte in a test."""

from __future__ import annotations


class RecordingTransport:
    def __init__(self) -> None:
        self.written = b""
        self.closed = False
        self.through_asgi = False  # set by tests: whether answering took an ASGI task

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def set_write_buffer_limits(self, *args: object, **kwargs: object) -> None: ...
