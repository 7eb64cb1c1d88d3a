"""Keys and clicks made while the desk is saving are held and applied in order once it is done.

An operator who clicks a ticket, presses Alt+W and Ctrl+Enter a quarter of a second apart must
get the sale they keyed in, whatever the writer thread is still doing: a Ctrl+Enter handled
before the ticket reached the cart would find it empty, a click on a tile being rebuilt would be
lost. While a write the operator started is in flight (``TaskRunner.writing_changed``), key
presses and releases, shortcut and mnemonic activations and mouse button events are held instead
of delivered; when the last write has delivered its result (so the screen shows it), they are
replayed in the order they came. A replayed event that starts another write holds the rest again.

Keys go to the widget they were typed into, unless a dialog opened over it meanwhile: then to
that dialog's focus, as a keyboard's type-ahead does (Ctrl+Enter, then the amount typed before
the payment dialog was up, lands in that dialog's tendered field);
shortcuts go to the shortcut or button they matched (a button's mnemonic clicks it at once, not
100 ms later as Qt's animated click does, so it lands before the next key); clicks go to the widget they were made on,
when it still exists. A write that takes longer than ``MAX_HOLD_MS`` (a slow network) lets input
through again, replaying what was held, so the desk never stops answering.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QKeyEvent, QMouseEvent, QShortcutEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from boxoffice.ui.tasks import TaskRunner

log = logging.getLogger(__name__)

MAX_HOLD_MS = 3000

_KEYS = (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
_MOUSE = (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease, QEvent.Type.MouseButtonDblClick)
_WATCHED = frozenset((*_KEYS, *_MOUSE, QEvent.Type.Shortcut))


class InputHold(QObject):
    """An application event filter that holds input while ``tasks`` is writing (see the module).

    With a widget ``parent`` (the main window) only input to that window and the dialogs it owns
    is held: another window's keys never wait for this desk's writes.
    """

    def __init__(self, tasks: TaskRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._scope = parent if isinstance(parent, QWidget) else None
        self._held: list[Callable[[], None]] = []
        self._holding = False
        self._replaying = False
        # The last key or click let through, and the widget it went to: Qt hands an event a child
        # ignored on to its parents, and that rest of a delivery already under way is not held.
        self._passed: tuple[QWidget, tuple[object, ...]] | None = None
        self._give_up = QTimer(self)
        self._give_up.setSingleShot(True)
        self._give_up.setInterval(MAX_HOLD_MS)
        self._give_up.timeout.connect(self._on_give_up_timeout)
        tasks.writing_changed.connect(self._on_tasks_writing_changed)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def held(self) -> int:
        """How many events wait to be replayed (tests)."""
        return len(self._held)

    def _on_tasks_writing_changed(self, writing: bool) -> None:
        if writing:
            if not self._holding:
                self._holding = True
                self._give_up.start()
        else:
            self._holding = False
            self._give_up.stop()
            if not self._replaying:
                # after the result's callbacks: a dialog it opened takes the keys typed ahead
                QTimer.singleShot(0, self._replay)

    def _on_give_up_timeout(self) -> None:
        log.info("a write is taking longer than %s ms: letting %s held events through", MAX_HOLD_MS,
                 len(self._held))
        self._holding = False
        self._replay()

    def _mine(self, watched: QObject) -> bool:
        """Is ``watched`` in the window this hold looks after (or one of the dialogs it owns)?"""
        if self._scope is None:
            return True
        node: QObject | None = watched
        while node is not None:
            if node is self._scope:
                return True
            node = node.parentWidget() if isinstance(node, QWidget) else node.parent()
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying:
            return False
        kind = event.type()
        if kind not in _WATCHED or not self._mine(watched):
            return False
        replay: Callable[[], None] | None = None
        if kind in _KEYS and isinstance(watched, QWidget):
            assert isinstance(event, QKeyEvent)
            if self._passes_on(watched, _signature(event)):
                return False
            replay = _key_replay(watched, event)
        elif kind == QEvent.Type.Shortcut:
            if not (self._holding or self._held):
                return False
            assert isinstance(event, QShortcutEvent)
            replay = _shortcut_replay(watched, event)
        elif kind in _MOUSE and isinstance(watched, QWidget) and not watched.isWindow():
            assert isinstance(event, QMouseEvent)
            if self._passes_on(watched, _signature(event)):
                return False
            replay = _mouse_replay(watched, event)
        if replay is None:
            return False
        self._held.append(replay)
        return True   # held: not delivered now

    def _passes_on(self, widget: QWidget, signature: tuple[object, ...]) -> bool:
        """True when the event goes through now: nothing is held, or it is the rest of a delivery."""
        if self._passed is not None and self._passed[1] == signature and _alive(self._passed[0]) \
                and widget.isAncestorOf(self._passed[0]):
            return True
        if self._holding or self._held:
            return False
        self._passed = (widget, signature)
        return True

    def _replay(self) -> None:
        """Deliver held events in order until one of them starts a write (the rest wait for it)."""
        self._replaying = True
        try:
            while self._held and not self._holding:
                self._held.pop(0)()
        finally:
            self._replaying = False


def _signature(event: QKeyEvent | QMouseEvent) -> tuple[object, ...]:
    """What a key or click keeps while Qt hands it from a child to its parents."""
    if isinstance(event, QKeyEvent):
        return (event.type(), event.key(), event.modifiers(), shiboken6.getCppPointer(event)[0])
    return (event.type(), event.button(), event.timestamp(), event.globalPosition().toPoint())


def _alive(obj: QObject) -> bool:
    return shiboken6.isValid(obj)


def _key_replay(widget: QWidget, event: QKeyEvent) -> Callable[[], None]:
    kind, key, modifiers, text = event.type(), event.key(), event.modifiers(), event.text()
    repeat, count = event.isAutoRepeat(), event.count()

    def replay() -> None:
        target = _key_target(widget)
        if target is not None:
            QApplication.sendEvent(target, QKeyEvent(kind, key, modifiers, text, repeat, count))

    return replay


def _key_target(widget: QWidget) -> QWidget | None:
    """The widget typed into, unless a dialog opened over it meanwhile: then that dialog's focus."""
    modal = QApplication.activeModalWidget()
    if _alive(widget) and widget.isVisible() and (modal is None or modal.isAncestorOf(widget)
                                                   or modal is widget):
        return widget
    if modal is not None:
        return modal.focusWidget() or modal
    return QApplication.focusWidget()


def _shortcut_replay(owner: QObject, event: QShortcutEvent) -> Callable[[], None]:
    sequence, shortcut_id, ambiguous = event.key(), event.shortcutId(), event.isAmbiguous()

    def replay() -> None:
        if not _alive(owner) or (isinstance(owner, QWidget) and not owner.isEnabled()):
            return
        if isinstance(owner, QAbstractButton) and not ambiguous:
            # A mnemonic (Alt+W) "animates" its click 100 ms later; replayed keys come at once, so
            # the click must land before the next one (Ctrl+Enter reads the walk-up state).
            owner.click()
        else:
            QApplication.sendEvent(owner, QShortcutEvent(sequence, shortcut_id, ambiguous))

    return replay


def _mouse_replay(widget: QWidget, event: QMouseEvent) -> Callable[[], None]:
    kind, local, scene, global_ = event.type(), event.position(), event.scenePosition(), event.globalPosition()
    button, buttons, modifiers = event.button(), event.buttons(), event.modifiers()

    def replay() -> None:
        if _alive(widget) and widget.isVisible() and widget.isEnabled():
            QApplication.sendEvent(widget, QMouseEvent(kind, local, scene, global_, button, buttons, modifiers))

    return replay
