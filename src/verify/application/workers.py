"""Worker processes for bulk work, fed through pipes of their own, answers taken in order.

Each worker holds only its own end of its pipe, so it ends when this process
does, however this process ends (killed outright included): its next read finds
the pipe closed. A pool's workers and queues would each hold both ends, and
outlive their parent waiting for work.

A process that runs a single thread starts its workers by forking: they begin
with every module imported and every value type built, in milliseconds instead
of half a second of CPU each. They never use the connections they inherit, and
never collect what they inherit (it is frozen at the fork), so a database
connection is never closed, nor its file checkpointed, from a copy.
A process with other threads (a server, a PostgreSQL connection pool) starts
them fresh (``spawn``), since a lock another thread held at the fork would stay
locked in the copy.

`grade --all` and the bulk import (`verify.adapters.bulk_import`) both work
through them.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

Task = TypeVar("Task")
Answer = TypeVar("Answer")

JOIN_SECONDS = 5.0
"""How long a worker is given to end once its pipe is closed, before it is killed."""


def usable_cores() -> int:
    """The processor cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def start_method() -> str:
    """How to start workers from here: forked from a process of one thread on Linux (where
    Python forks safely; macOS's own libraries may not survive a fork), else fresh."""
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return "fork"
    return "spawn"


@contextmanager
def frozen_while(forking: bool) -> Iterator[None]:
    """Keep this process's objects out of the cyclic collector's reach while workers fork.

    A forked worker inherits them frozen, so it never collects one of them: a
    database connection that was garbage here is never closed, nor its file
    checkpointed, from a copy. They are collected here again afterwards.
    """
    if not forking:
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class Workers(Generic[Task, Answer]):
    """``count`` processes that each run ``start(*args)`` once, then ``work`` on every task
    given them, one at a time.

    `answers` hands out tasks in turn and yields their answers in the order of the
    tasks; a worker's exception is raised here. Each worker has one task at a time,
    sent only once it has answered the one before, so neither side ever waits on the
    other's full pipe.
    """

    def __init__(self, count: int, start: Callable[..., None], args: tuple[Any, ...],
                 work: Callable[[Task], Answer]) -> None:
        method = start_method()
        forked = method == "fork"
        from multiprocessing import get_context  # not at start-up: most commands start none

        context: Any = get_context(method)
        self._pipes: list[Connection] = []
        self._processes: list[Any] = []
        with frozen_while(forked):
            try:
                self._start(count, context, (start, args, work), forked)
            except BaseException:
                self.close()  # those already started
                raise

    def _start(self, count: int, context: Any, serving: tuple[Any, ...], forked: bool) -> None:
        for _ in range(count):
            mine, theirs = context.Pipe()
            # A forked worker holds a copy of every end this process holds: it closes them,
            # or it would never find its own pipe closed.
            inherited = [*self._pipes, mine] if forked else []
            process = context.Process(target=_serve, args=(theirs, *serving, inherited),
                                      daemon=True, name="verify-worker")
            process.start()
            theirs.close()
            self._pipes.append(mine)
            self._processes.append(process)

    def answers(self, tasks: Iterable[Task]) -> Iterator[Answer]:
        """The answer to each task, in the order of the tasks."""
        pending = iter(tasks)
        busy: deque[Connection] = deque()
        for pipe in self._pipes:
            task = next(pending, _DONE)
            if task is _DONE:
                break
            pipe.send(task)
            busy.append(pipe)
        ready = next(pending, _DONE) if busy else _DONE
        while busy:
            pipe = busy.popleft()
            answer = _received(pipe)
            if ready is not _DONE:
                pipe.send(ready)
                busy.append(pipe)
                ready = next(pending, _DONE)  # made while the workers work, ready for the next
            yield answer

    def close(self) -> None:
        """End every worker: its pipe closed, it ends; one that does not is killed."""
        for pipe in self._pipes:
            pipe.close()
        for process in self._processes:
            process.join(JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                process.join()

    def __enter__(self) -> Workers[Task, Answer]:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


_DONE: Any = object()
"""No task left."""


def _received(pipe: Connection) -> Any:
    try:
        outcome, value = pipe.recv()
    except EOFError:
        raise RuntimeError("a worker process ended before it answered") from None
    if outcome == "error":
        raise value
    return value


def _serve(pipe: Connection, start: Callable[..., None], args: tuple[Any, ...],
           work: Callable[[Any], Any], inherited: list[Connection]) -> None:
    """A worker's life: answer each task until the pipe closes."""
    for end in inherited:
        end.close()
    # Ctrl-C reaches the whole process group: the parent decides, and closing the pipes
    # ends the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    start(*args)
    while _answered(pipe, work):
        pass


def _answered(pipe: Connection, work: Callable[[Any], Any]) -> bool:
    """Answer one task; False once the pipe has closed. A function of its own, so the task
    and its answer are freed as soon as the answer is sent, not kept through the next."""
    try:
        task = pipe.recv()
    except (EOFError, OSError):
        return False
    try:
        reply: tuple[str, Any] = ("answer", work(task))
    except Exception as error:  # raised again in the parent, where it can be reported
        import traceback  # only on this path: most commands never need it

        error.add_note(f"raised in a worker process:\n{traceback.format_exc().rstrip()}")
        reply = ("error", error)
    try:
        pipe.send(reply)
    except (BrokenPipeError, OSError):
        return False
    except Exception:  # an error that cannot be pickled: its words are enough
        pipe.send(("error", RuntimeError(f"{type(reply[1]).__name__}: {reply[1]}")))
    return True
