"""Ctrl-C and SIGTERM: how a command stops, and why it always does, soon.

A command stops at the first SIGINT (Ctrl-C) or SIGTERM (systemd, ``kill``): the
signal is remembered (:func:`received`) and raised as :class:`KeyboardInterrupt` in the
main thread, so the run records itself ``interrupted``, lets its resources go and the
command prints one line (exit 130 for SIGINT, 143 for SIGTERM). Remembering it matters:
a library may swallow the :class:`KeyboardInterrupt` or turn it into an error of its
own (Prefect's task engine raised ``ValueError: Task run is not set`` when it came
before a task run existed; DuckDB raises ``Query interrupted``), and the command must
still say ``interrupted``, with its code.

Every exit path is bounded (:func:`handling`):

* a **second** SIGINT or SIGTERM ends the process at once, even while the main thread
  is stuck in C code (the signal is seen through the wakeup file descriptor of
  :func:`signal.set_wakeup_fd` by a thread of its own, not by the main thread);
* a command still running :data:`EXIT_GRACE_S` seconds after the first signal (a
  clean stop takes a second or two) is ended by the same **last resort**.

The last resort runs the cleanups registered with :func:`at_last_resort` (the shared
Prefect server of the command's folder is stopped if no other command uses it, this
process's staging files are removed), kills this process's ``multiprocessing``
children, prints the one line if it was not printed yet, and leaves with
:func:`os._exit`. Nothing stored is lost: every batch was committed in its own
transaction (DuckDB's write-ahead log keeps it; an unfinished one is rolled back at
the next open), the web archive is fsynced record by record (a torn last record is
repaired at the next run), and the kernel lets go of the writer lock. The run may stay
recorded ``running``; the next run of the warehouse says so.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import CodeType, FrameType, TracebackType
from typing import Any

EXIT_GRACE_S = 20.0
"""Seconds a command has to end after the first stop signal before the last resort."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
REDELIVER_S = 0.05
"""How long after it was lost an interrupt is raised again (:meth:`_StopSignals.lost`)."""
_WAKE = b"\0"
"""A byte the module writes to its own pipe (no signal has number 0): look again."""


def exit_code(signum: int) -> int:
    """The shells' ``128 + signal number``: 130 for SIGINT, 143 for SIGTERM."""
    return 128 + signum


class _StopSignals:
    """The process's stop signals: what came, the watch thread, the cleanups."""

    def __init__(self) -> None:
        self.first: int | None = None
        self.handled = 0
        """Stop signals seen by the Python handler (main thread)."""
        self.seen = 0
        """Stop signals seen by the watch thread (through the wakeup fd)."""
        self.redelivered = 0
        """Interrupts delivered again (:meth:`lost`) whose byte the watch thread has not
        read yet: not signals."""
        self.deadline: float | None = None
        self.grace = EXIT_GRACE_S
        self.announced = False
        self.cleanups: list[Callable[[], object]] = []
        self.keys: set[str] = set()
        self.lock = threading.Lock()
        self.ending = threading.Lock()
        self.pipe: tuple[int, int] | None = None
        self.installed = False
        self.normal = False
        """A stop signal is the command's ordinary end (``serve``): exit 0 when it ends."""
        self.previous_hook: Callable[[Any], object] = sys.unraisablehook
        """The ``sys.unraisablehook`` :func:`keep_lost_signals` replaced."""

    # -- the first signal, the second, the deadline ----------------------------------------

    def note(self, signum: int) -> None:
        """Remember the first stop signal and start the deadline (either of the handler
        and the watch thread may see it first)."""
        with self.lock:
            if self.first is not None:
                return
            self.first = signum
            self.deadline = time.monotonic() + self.grace
        self.wake()

    def wake(self) -> None:
        pipe = self.pipe
        if pipe is not None:
            with contextlib.suppress(OSError):
                os.write(pipe[1], _WAKE)

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        """The Python handler (main thread): the first signal becomes a
        :class:`KeyboardInterrupt`, a second one is the last resort at once."""
        self.handled += 1
        if self.handled >= 2:
            self.last_resort(f"a second {signal.Signals(signum).name}")
        self.note(signum)
        _quiet()
        raise KeyboardInterrupt

    def lost(self, args: Any) -> None:
        """``sys.unraisablehook`` (:func:`keep_lost_signals`). An exception raised by a
        signal handler can land where Python cannot raise it (a weakref callback, a
        ``__del__``): our :class:`KeyboardInterrupt` (seen in an import lock's callback
        while a command started), Prefect's ``TerminationSignal`` in a flow run's process
        (seen when ``serve`` stopped its runs). Python would print "Exception ignored
        in ..." with a traceback and go on as if no signal had come. The signal is
        delivered again instead, :data:`REDELIVER_S` later, to whatever handler is then
        installed, where the main thread is then (and again if that place cannot raise it
        either). Anything else unraisable goes to the hook that was there before, except
        after a stop signal: then, like the rest, it is not for the user."""
        found = _raised_by_handler(args.exc_value, args.exc_traceback)
        if found is None:
            if self.first is None:
                self.previous_hook(args)
            return
        signum, ours = found
        if ours and self.first is not None:
            signum = self.first
        with self.lock:
            if ours:  # not a second signal for the handler
                self.handled = max(0, self.handled - 1)
            if self.installed and signum in STOP_SIGNALS:  # nor for the watch thread,
                # which the simulated signal wakes
                self.redelivered += 1
        # From another thread, a moment later: raised in this hook, it would be
        # unraisable again (the main thread runs a signal handler at its next bytecode).
        again = threading.Timer(REDELIVER_S, _deliver, (signum,))
        again.daemon = True
        again.start()

    def watch(self, read_fd: int) -> None:
        """The watch thread: counts stop signals from the wakeup fd (seen even when the
        main thread is stuck in C code) and keeps the deadline."""
        while True:
            deadline = self.deadline
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                ready, _, _ = select.select([read_fd], [], [], timeout)
            except (OSError, ValueError):
                return  # the pipe was closed: uninstalled
            if not ready:
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    self.last_resort(f"still running {self.grace:g} s after the signal")
                continue
            try:
                data = os.read(read_fd, 64)
            except OSError:
                return
            if not data:
                return
            for number in data:
                if number not in STOP_SIGNALS:
                    continue
                with self.lock:
                    if self.redelivered:  # the simulated signal writes the pipe too
                        self.redelivered -= 1
                        continue
                self.seen += 1
                self.note(number)
                if self.seen >= 2:
                    self.last_resort(f"a second {signal.Signals(number).name}")

    def last_resort(self, why: str) -> None:
        """Let go of what must be let go of, say the one line, leave at once."""
        if not self.ending.acquire(blocking=False):
            return  # another thread is doing it
        code = exit_code(self.first or signal.SIGINT)
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(BaseException):
                cleanup()
        with contextlib.suppress(BaseException):
            # Not imported at the top: every command starts with this module, few
            # start worker processes (and those have imported multiprocessing).
            multiprocessing = sys.modules.get("multiprocessing")
            for child in multiprocessing.active_children() if multiprocessing else []:
                child.kill()
        if not self.announced:
            line = "interrupted" if code == exit_code(signal.SIGINT) else "interrupted (SIGTERM)"
            with contextlib.suppress(OSError):
                os.write(2, f"{line}\n".encode())
        os._exit(code)


_process = _StopSignals()


def _quiet() -> None:
    """After a stop signal, libraries' reactions to it are not for the user: Prefect
    logs the crash it sees ("Crash detected! Execution was aborted by an interrupt
    signal."), threads may end with an error and the interrupt itself may be
    unraisable where it landed (:meth:`_StopSignals.lost`). The command prints one line."""
    import logging

    logging.disable(logging.ERROR)
    threading.excepthook = _silent
    keep_lost_signals()


def keep_lost_signals() -> None:
    """Make ``sys.unraisablehook`` deliver again a signal whose handler raised where
    Python cannot raise (:meth:`_StopSignals.lost`); once per process. Called by
    :func:`handling` (every command) and by the ``flows`` package (every process that
    runs a flow of ours: a command, ``serve``'s and the workers' flow-run processes,
    where Prefect's own SIGTERM handler is the one that raises)."""
    if sys.unraisablehook != _process.lost:
        _process.previous_hook = sys.unraisablehook
        sys.unraisablehook = _process.lost


def _raised_by_handler(
    exc: BaseException | None, tb: TracebackType | None
) -> tuple[int, bool] | None:
    """The signal whose Python handler raised ``exc`` (the innermost frame of its
    traceback that is a handler installed now), and whether the handler is ours; a
    :class:`KeyboardInterrupt` from Python's own SIGINT handler (C code, no frame) too."""
    if exc is None:
        return None
    handlers: dict[CodeType, int] = {}
    for signum in sorted(signal.valid_signals(), reverse=True):
        with contextlib.suppress(ValueError, OSError):
            handler = signal.getsignal(signum)
            code = getattr(getattr(handler, "__func__", handler), "__code__", None)
            if isinstance(code, CodeType):
                handlers[code] = signum  # the lowest number of a shared handler
    found: tuple[int, bool] | None = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code in handlers:
            found = (handlers[code], code is _StopSignals.on_signal.__code__)
        tb = tb.tb_next
    if found is None and isinstance(exc, KeyboardInterrupt):
        with contextlib.suppress(ValueError):
            if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
                found = (signal.SIGINT, False)
    return found


def _deliver(signum: int) -> None:
    """Raise ``signum`` again for the main thread: its Python handler if it has one
    (as if it had come now), otherwise the signal itself (its default action)."""
    with contextlib.suppress(ValueError, OSError):
        if callable(signal.getsignal(signum)):
            _thread.interrupt_main(signal.Signals(signum))
            return
        os.kill(os.getpid(), signum)


def _silent(args: Any) -> None:
    return None


def received() -> int | None:
    """The first stop signal this process received (``signal.SIGINT`` or
    ``signal.SIGTERM``), or None."""
    return _process.first


def stop_is_normal(grace: float) -> None:
    """For a command that runs until it is stopped (``serve``): a stop signal is its
    ordinary end (it exits 0 once it has let go of everything, within ``grace`` seconds,
    not :data:`EXIT_GRACE_S`: a scheduled run may be under way)."""
    _process.normal = True
    _process.grace = grace


def normal_stop() -> bool:
    """Whether a stop signal came to a command for which it is the ordinary end."""
    return _process.normal and _process.first is not None


def check() -> None:
    """Raise :class:`KeyboardInterrupt` if a stop signal came: for a loop between two
    steps, so that an interrupt a library swallowed still stops the run there."""
    if _process.first is not None:
        raise KeyboardInterrupt


def announced() -> None:
    """The command printed its one line: the last resort does not print it again."""
    _process.announced = True


def at_last_resort(cleanup: Callable[[], object]) -> None:
    """Run ``cleanup`` (bounded, quick; errors ignored) if the process must leave by the
    last resort; :func:`forget` it when its resource was let go the ordinary way."""
    _process.cleanups.append(cleanup)


def at_last_resort_once(key: str, cleanup: Callable[[], object]) -> None:
    """:func:`at_last_resort`, once per ``key`` for the process's life."""
    if key not in _process.keys:
        _process.keys.add(key)
        _process.cleanups.append(cleanup)


def forget(cleanup: Callable[[], object]) -> None:
    with contextlib.suppress(ValueError):
        _process.cleanups.remove(cleanup)


@contextlib.contextmanager
def handling(grace: float | None = None) -> Iterator[None]:
    """Stop signals handled as the module docstring says, for the ``with`` block (the
    main thread only; elsewhere, and when already handled, it does nothing).

    On the way out the previous handlers come back, unless a stop signal came: the
    process is then on its way out and a second signal must still end it at once, and
    the deadline still holds (exit handlers, threads joined at exit)."""
    state = _process
    if threading.current_thread() is not threading.main_thread() or state.installed:
        yield
        return
    state.grace = EXIT_GRACE_S if grace is None else grace
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    try:
        previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    except ValueError:  # not the main interpreter
        os.close(read_fd)
        os.close(write_fd)
        yield
        return
    keep_lost_signals()
    previous = {s: signal.signal(s, state.on_signal) for s in STOP_SIGNALS}
    state.pipe = (read_fd, write_fd)
    state.installed = True
    watcher = threading.Thread(
        target=state.watch, args=(read_fd,), name="baolaocai-stop-signals", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        if state.first is None:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(previous_fd)
            state.installed = False
            state.pipe = None
            os.close(write_fd)  # the watch thread reads the end of the pipe and returns
            watcher.join(timeout=5)
            os.close(read_fd)
