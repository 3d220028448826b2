"""Edit history of a note: every saved version (append-only in the store) and a coloured diff between any version
and the one before it."""
from __future__ import annotations

import html

from . import ops
from .errors import show_error
from .qt import QLabel, QListWidget, QListWidgetItem, QSplitter, QTextBrowser, QVBoxLayout, QWidget, Qt

__all__ = ["HistoryView", "diff_html", "tint"]


ADDED, DELETED = (0x1e, 0x7f, 0x34), (0xc5, 0x22, 0x1f)


def tint(rgb: tuple[int, int, int], base: tuple[int, int, int], share: float = 0.2) -> str:
    """`rgb` laid over `base` at `share`, as an opaque #RRGGBB. Qt's rich text reads 8-digit colours as #AARRGGBB
    (CSS means #RRGGBBAA), so "#c5221f22" came out charcoal and the added green pink; opaque colours mean the same
    in both."""
    return "#" + "".join(f"{round(c * share + b * (1 - share)):02x}" for c, b in zip(rgb, base))


def diff_html(lines: list[str], base: tuple[int, int, int] = (255, 255, 255)) -> str:
    """Unified-diff lines as HTML: added lines tinted green, deleted red (struck through), over `base` (the
    editor's background, so a dark palette gets dark tints)."""
    add, dele = tint(ADDED, base), tint(DELETED, base)
    out = []
    for ln in lines:
        e = html.escape(ln)
        if ln.startswith("+") and not ln.startswith("+++"):
            out.append(f'<div style="background-color:{add}">{e}</div>')
        elif ln.startswith("-") and not ln.startswith("---"):
            out.append(f'<div style="background-color:{dele};text-decoration:line-through">{e}</div>')
        elif ln.startswith("@@"):
            out.append(f'<div style="color:#888888">{e}</div>')
        else:
            out.append(f"<div>{e or '&nbsp;'}</div>")
    return "<pre style='white-space:pre-wrap'>" + "".join(out) + "</pre>"


class HistoryView(QWidget):
    def __init__(self, app, runner, parent=None):
        super().__init__(parent)
        self.app, self.runner = app, runner
        self.note_id = None
        self.versions: list = []
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        split = QSplitter(Qt.Orientation.Vertical)
        self.list = QListWidget()
        self.list.setAccessibleName("Note versions")
        self.list.currentRowChanged.connect(self.show_diff)
        self.diff = QTextBrowser()
        self.diff.setAccessibleName("Difference from the previous version")
        split.addWidget(self.list)
        split.addWidget(self.diff)
        split.setSizes([120, 400])
        lay.addWidget(QLabel("Versions (select one to see what changed):"))
        lay.addWidget(split, 1)

    def set_note(self, note_id) -> None:
        self.note_id = note_id
        self.list.clear()
        self.diff.clear()
        if note_id is None:
            return
        op = ops.NoteHistory(self.app, note_id)
        self.runner.submit(op.label, op.work, on_done=self._loaded, on_error=lambda e: show_error(self, e, "history"))

    def _loaded(self, versions: list) -> None:
        self.versions = versions
        self.list.clear()
        for v in versions:
            it = QListWidgetItem(f"v{v['version']} · {v.get('kind', '')} · {v.get('author') or ''} · "
                                 f"{v.get('created', '')}")
            self.list.addItem(it)
        if versions:
            self.list.setCurrentRow(len(versions) - 1)

    def show_diff(self, row: int) -> None:
        if row < 0 or row >= len(self.versions):
            self.diff.clear()
            return
        new = self.versions[row]
        old = self.versions[row - 1] if row > 0 else {"markdown": "", "version": 0}
        lines = ops.unified_diff(old.get("markdown", ""), new.get("markdown", ""), f"v{old['version']}",
                                 f"v{new['version']}")
        b = self.diff.palette().base().color()
        self.diff.setHtml(diff_html(lines, (b.red(), b.green(), b.blue())) if lines else "<i>No change in text.</i>")

    def diff_text(self) -> str:
        return self.diff.toPlainText()
