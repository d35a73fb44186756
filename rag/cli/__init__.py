"""The `rag` command line: one module per command group (`main` assembles them)."""

from rag.cli.main import main

__all__ = ["main"]
