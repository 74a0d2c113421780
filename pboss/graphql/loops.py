"""Worker event loops: GraphQL operations run here, never on the loop answering /healthz.

Parsing, validation and execution are Python work that holds its event loop while it runs. On
the server's own loop one heavy request would stall every other request and the health checks
(issue 16: a 2 KB fragment bomb held /healthz for seconds). So each operation runs as a task on
one of `size` event loops, each in its own daemon thread (the least busy one; ties go to the
first), and the server's loop only awaits it. Operations still interleave on their worker loop at
every store call (`Context.call`), and the interpreter hands the GIL between threads every few
milliseconds, so the server's loop keeps answering while a worker computes. The operation runs
in a copy of the caller's context variables (as a task on the caller's loop would), and
cancelling the awaiting task (a client that went away) cancels the operation on its worker.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerLoops:
    """A fixed set of event loops in daemon threads, started on first use, stopped by `close`."""

    def __init__(self, size: int, name: str = "pboss-graphql"):
        self.size = size
        self.name = name
        self.lock = threading.Lock()
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.threads: list[threading.Thread] = []
        self.busy: list[int] = []
        self.closed = False

    def start(self) -> None:
        """Start the loops (idempotent; `run` calls it)."""
        with self.lock:
            if self.loops or self.closed:
                return
            for i in range(self.size):
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=self.serve, args=(loop,), name=f"{self.name}-{i}", daemon=True
                )
                thread.start()
                self.loops.append(loop)
                self.threads.append(thread)
                self.busy.append(0)

    @staticmethod
    def serve(loop: asyncio.AbstractEventLoop) -> None:
        """One worker thread: run its loop until `close` stops it, then close the loop."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the least busy worker loop and return its result (or raise its error)."""
        self.start()
        if self.closed:
            work.close()
            raise RuntimeError("the GraphQL worker loops are closed")
        with self.lock:
            index = min(range(self.size), key=self.busy.__getitem__)
            self.busy[index] += 1
        try:
            return await asyncio.wrap_future(submit(work, self.loops[index]))
        finally:
            with self.lock:
                self.busy[index] -= 1

    def close(self) -> None:
        """Stop every loop (operations still running are abandoned) and wait for the threads."""
        with self.lock:
            self.closed = True
            loops, threads = self.loops, self.threads
        for loop in loops:
            if not loop.is_closed():
                loop.call_soon_threadsafe(loop.stop)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(timeout=5)


def submit(work: Coroutine[Any, Any, T], loop: asyncio.AbstractEventLoop) -> Any:
    """Start `work` as a task on `loop` (another thread's) in a copy of the caller's context;
    a concurrent future carries its outcome back, and cancelling that future cancels the task."""
    context = contextvars.copy_context()
    outcome: concurrent.futures.Future[T] = concurrent.futures.Future()

    def report(task: asyncio.Task[T]) -> None:
        if task.cancelled():
            outcome.cancel()
        elif not outcome.set_running_or_notify_cancel():  # cancelled by the caller meanwhile
            return
        elif task.exception() is not None:
            outcome.set_exception(task.exception())
        else:
            outcome.set_result(task.result())

    def start() -> None:
        if outcome.cancelled():
            work.close()
            return
        task = loop.create_task(work, context=context)
        task.add_done_callback(report)
        outcome.add_done_callback(  # the future stays pending until the task ends: cancellable
            lambda done: done.cancelled() and loop.call_soon_threadsafe(task.cancel)
        )

    loop.call_soon_threadsafe(start)
    return outcome
