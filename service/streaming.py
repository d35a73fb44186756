"""Running `Library.ask_stream` (a blocking generator) under asyncio, so a client that goes away
stops it.

Each step of the generator runs in a worker thread; when the consumer stops early (the client
disconnected, the task was cancelled), the generator is closed in a worker thread too, which
raises GeneratorExit inside `ask_stream` and so closes any LLM request it holds. No thread is
left running a question nobody reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

import anyio
from starlette.responses import StreamingResponse

T = TypeVar("T")
_DONE = object()


def _step(gen: Iterator[T]):
    return next(gen, _DONE)


async def in_thread(gen: Iterator[T]) -> AsyncIterator[T]:
    """Iterate a blocking generator one item per worker-thread call; always close it."""
    try:
        while True:
            item = await anyio.to_thread.run_sync(_step, gen)
            if item is _DONE:
                return
            yield item
    finally:
        # Shielded: the close must run even while this task is being cancelled.
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(gen.close)


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that closes its body iterator however streaming ends (a disconnected
    client raises in `send`, which would otherwise leave the iterator to the garbage collector)."""

    async def stream_response(self, send) -> None:
        try:
            await super().stream_response(send)
        finally:
            closer = getattr(self.body_iterator, "aclose", None)
            if closer is not None:
                with anyio.CancelScope(shield=True):
                    await closer()
