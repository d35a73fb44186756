"""Local TCP ports for the servers newsground starts itself (the local LLM server; in tests and
benchmarks also Chroma, the UI and small HTTP sites)."""

from __future__ import annotations

import socket


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that nothing listens on right now (the caller binds it soon after; a server
    that can bind port 0 itself should do that instead)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]
