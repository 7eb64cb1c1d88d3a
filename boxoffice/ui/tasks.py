"""The one place that knows about threads: run service calls off the GUI thread, deliver on it.

Writes go to a pool with one thread (one SQLite writer, ordered like the operator's clicks);
reads and network go to a reader pool; printer and cash-drawer jobs to a device pool of their own
(one thread: jobs reach the printer in order, and a printer that hangs holds up no sale or search). Each callback runs on the GUI thread. A task started
with a ``key`` makes earlier tasks with the same key stale: their results are dropped, so a
search typed quickly shows only the answer to the last text.

A write refused with ``PermissionDenied`` can be approved once by a lead: when an override
handler is installed (``set_override_handler``, done by the main window), it is asked on the GUI
thread; on approval the same callable runs once more as the operator approved by the lead, and
its result goes to the original ``on_success``; on cancel the original error goes to ``on_error``.
"""

from __future__ import annotations

import contextvars
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from boxoffice.errors import PermissionDenied
from boxoffice.services.staff.access import Actor, acting_as, current_actor

log = logging.getLogger(__name__)

SuccessFn = Callable[[Any], None]
ErrorFn = Callable[[BaseException], None]
ResumeFn = Callable[[Actor | None], None]
# Shows the approval dialog for a refused write (with what is to be approved, e.g. "Refund $40.00 on
# order PY-7K2M", or ""); calls ``resume(approver)`` or ``resume(None)`` later.
OverrideHandler = Callable[[PermissionDenied, ResumeFn, str], None]


@dataclass
class _Pending:
    on_success: SuccessFn | None
    on_error: ErrorFn | None
    key: str | None
    owner: QObject | None
    fn: Callable[[], object]
    actor: Actor | None          # who started it (the override approves this operator)
    approvable: bool            # a write that may be re-run once with a lead's approval
    writes: bool                # on the writer pool: counted in ``writing_changed``
    approval: str = ""          # what a lead approves, in words, if the write is refused
    pool: QThreadPool | None = None   # where an approved re-run goes (the writer when None)


class _Job(QRunnable):
    def __init__(self, fn: Callable[[], object], done: Callable[[object, object], None]) -> None:
        super().__init__()
        self._fn, self._done = fn, done
        self.setAutoDelete(True)

    def run(self) -> None:  # worker thread: never touch a widget here
        try:
            result = self._fn()
        except BaseException as exc:  # noqa: BLE001 - every failure is delivered to on_error
            self._done(None, exc)
        else:
            self._done(result, None)


class TaskRunner(QObject):
    """Runs callables on two thread pools and calls back on the GUI thread.

    Signals: ``busy_changed(bool)`` when the first task starts or the last one finishes;
    ``writing_changed(bool)`` when the first write starts or the last write has delivered its
    result (after its callbacks ran, so the screen shows it; ``ui/input_hold.py`` holds the
    operator's input in between).
    A callback whose ``owner`` (or bound-method object) was deleted is not called.
    """

    _done = Signal(int, object, object)
    busy_changed = Signal(bool)
    writing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._writer = QThreadPool(self)
        self._writer.setMaxThreadCount(1)
        self._reader = QThreadPool(self)
        self._reader.setMaxThreadCount(max(2, QThreadPool.globalInstance().maxThreadCount()))
        self._device = QThreadPool(self)
        self._device.setMaxThreadCount(1)
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._writes = 0   # writes started and not yet delivered
        self._latest: dict[str, int] = {}
        self._override: OverrideHandler | None = None
        self._done.connect(self._deliver)  # receiver lives on the GUI thread: queued delivery

    def write(self, fn: Callable[[], object], on_success: SuccessFn | None = None,
          on_error: ErrorFn | None = None, *, key: str | None = None,
          owner: QObject | None = None, approvable: bool = True, approval: str = "") -> int:
        """Run a change (one transaction) on the single writer thread.

        ``approvable=False``: a refusal goes straight to ``on_error`` (sign-in and approval calls).
        ``approval`` says what the change does, for the lead asked to approve it ("Refund $40.00
        to store credit on order PY-7K2M").
        """
        return self._start(self._writer, fn, on_success, on_error, key, owner, approvable, approval)

    def set_override_handler(self, handler: OverrideHandler | None) -> None:
        """Who asks a lead to approve a refused write (``None``: refusals go to ``on_error``)."""
        self._override = handler

    def read(self, fn: Callable[[], object], on_success: SuccessFn | None = None,
         on_error: ErrorFn | None = None, *, key: str | None = None,
         owner: QObject | None = None) -> int:
        """Run a query or other I/O on the reader pool."""
        return self._start(self._reader, fn, on_success, on_error, key, owner, False)

    def device(self, fn: Callable[[], object], on_success: SuccessFn | None = None,
               on_error: ErrorFn | None = None, *, owner: QObject | None = None,
               approvable: bool = False) -> int:
        """Run a printer or cash-drawer job on the device thread (each job waits at most its timeout).

        ``approvable=True``: a refusal may be approved by a lead and re-run here (no-sale drawer).
        """
        return self._start(self._device, fn, on_success, on_error, None, owner, approvable)

    def is_busy(self) -> bool:
        return bool(self._pending)

    def is_writing(self) -> bool:
        return self._writes > 0

    def wait_idle(self, msecs: int = 10_000) -> bool:
        """Block until both pools are empty (shutdown and tests); callbacks still need the event loop."""
        return (self._writer.waitForDone(msecs) and self._reader.waitForDone(msecs)
                and self._device.waitForDone(msecs))

    def _start(self, pool: QThreadPool, fn: Callable[[], object], on_success: SuccessFn | None,
               on_error: ErrorFn | None, key: str | None, owner: QObject | None, approvable: bool,
               approval: str = "") -> int:
        task_id = next(self._ids)
        was_idle = not self._pending
        writes = pool is self._writer
        self._pending[task_id] = _Pending(on_success, on_error, key, owner, fn, current_actor(), approvable,
                                          writes, approval, pool)
        if writes:
            self._writes += 1
            if self._writes == 1:
                self.writing_changed.emit(True)
        if key is not None:
            self._latest[key] = task_id
        # The worker runs in a copy of the caller's context: the signed-in operator (or a lead's
        # one-off approval set around this call) is who the service sees.
        context = contextvars.copy_context()
        pool.start(_Job(lambda: context.run(fn), lambda result, error: self._done.emit(task_id, result, error)))
        if was_idle:
            self.busy_changed.emit(True)
        return task_id

    @Slot(int, object, object)
    def _deliver(self, task_id: int, result: object, error: object) -> None:
        pending = self._pending.pop(task_id)
        on_success, on_error, key, owner = pending.on_success, pending.on_error, pending.key, pending.owner
        # The write is over before its callbacks run: one may open a dialog (a lead's approval, a
        # confirmation) whose keys must not be held as if the desk were still saving.
        if pending.writes:
            self._writes -= 1
            if self._writes == 0:
                self.writing_changed.emit(False)
        try:
            if key is not None and self._latest.get(key) != task_id:
                log.debug("dropping stale result of task %s (%s)", task_id, key)
                return
            callback = on_success if error is None else on_error
            if not _alive(owner) or not _alive(getattr(callback, "__self__", None)):
                log.debug("dropping result of task %s: its screen was closed", task_id)
                return
            if (isinstance(error, PermissionDenied) and pending.approvable and self._override is not None
                    and pending.actor is not None):
                self._ask_override(pending, error)
                return
            if key is not None:
                self._latest.pop(key, None)
            if error is None:
                if on_success is not None:
                    on_success(result)
                return
            assert isinstance(error, BaseException)
            if on_error is not None:
                on_error(error)
            else:
                log.error("task %s failed with nobody to tell", task_id, exc_info=error)
        finally:
            if not self._pending:
                self.busy_changed.emit(False)

    def _ask_override(self, pending: _Pending, error: PermissionDenied) -> None:
        """Ask a lead to approve; re-run once as the approved operator, or hand back the refusal."""
        assert self._override is not None and pending.actor is not None
        operator, fn = pending.actor, pending.fn

        def resume(approver: Actor | None) -> None:
            if approver is None:
                if pending.on_error is not None and _alive(pending.owner) \
                        and _alive(getattr(pending.on_error, "__self__", None)):
                    pending.on_error(error)
                return
            approved = operator.approved_by(approver)

            def run_approved() -> object:
                with acting_as(approved):
                    return fn()

            self._start(pending.pool or self._writer, run_approved, pending.on_success, pending.on_error, pending.key,
                        pending.owner, False)

        self._override(error, resume, pending.approval)


def _alive(obj: object) -> bool:
    """False for a QObject whose C++ side is gone (a closed dialog): its callbacks must not run."""
    return not isinstance(obj, QObject) or shiboken6.isValid(obj)
