"""Encounter list with search and filters (status, template, date). Filtering is a pure function over rows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable

from .qt import (QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem,
                 QPushButton, QTimer, QVBoxLayout, QWidget, Qt, Signal)
from .wiring import on_click

__all__ = ["EncounterRow", "as_row", "filter_rows", "EncounterList"]


def _get(obj: Any, *names: str, default=None):
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


@dataclass
class EncounterRow:
    id: Any
    subject: str
    template_id: str
    status: str          # "draft" | "approved" | "new" | "transcribed"
    created: dt.datetime
    documents: tuple = ()   # (template id, status) of every note of the encounter, oldest first

    @property
    def label(self) -> str:
        docs = "; ".join(f"{t} · {st}" for t, st in self.documents) or \
            f"{self.template_id or 'no template'} · {self.status}"
        return f"{self.subject}\n{self.created:%Y-%m-%d %H:%M} · {docs}"

    def has_status(self, status: str) -> bool:
        """Any document with this status (an encounter with a signed note and a draft letter is both)."""
        return status == self.status or any(st == status for _t, st in self.documents)

    def has_template(self, template: str) -> bool:
        return template == self.template_id or any(t == template for t, _st in self.documents)


def as_row(obj: Any) -> EncounterRow:
    """Adapt whatever the app returns (dataclass or dict) to the row the list shows."""
    created = _get(obj, "created_at", "created", "started_at", default=0)
    if isinstance(created, (int, float)):
        created = dt.datetime.fromtimestamp(float(created))
    elif isinstance(created, str):
        try:
            created = dt.datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            created = dt.datetime.fromtimestamp(0)
    if created.tzinfo is not None:
        created = created.astimezone().replace(tzinfo=None)
    return EncounterRow(_get(obj, "id", "encounter_id"), str(_get(obj, "subject", "subject_name", default="") or ""),
                        str(_get(obj, "template_id", "template", default="") or ""),
                        str(_get(obj, "status", default="draft") or "draft"), created,
                        tuple(tuple(d) for d in (_get(obj, "documents", default=()) or ())))


def filter_rows(rows: Iterable[EncounterRow], query: str = "", status: str = "all", template: str = "all",
                since: dt.date | None = None) -> list[EncounterRow]:
    q = query.strip().lower()
    out = []
    for r in rows:
        if q and q not in r.subject.lower() and not any(q in t.lower() for t in
                                                         (r.template_id, *(d[0] for d in r.documents))):
            continue
        if status != "all" and not r.has_status(status):
            continue
        if template != "all" and not r.has_template(template):
            continue
        if since and r.created.date() < since:
            continue
        out.append(r)
    return sorted(out, key=lambda r: r.created, reverse=True)


class EncounterList(QWidget):
    selected = Signal(object)          # encounter id
    new_requested = Signal()
    search_changed = Signal(str)       # debounced; the app searches note text too when server_search is on

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list[EncounterRow] = []
        self.server_search = False
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(300)
        self._debounce.timeout.connect(lambda: self.search_changed.emit(self.search.text()))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.new_button = QPushButton("&New encounter")
        self.new_button.setAccessibleName("New encounter")
        on_click(self.new_button, self.new_requested.emit)
        lay.addWidget(self.new_button)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search subject or template")
        self.search.setAccessibleName("Search encounters")
        self.search.setClearButtonEnabled(True)
        lay.addWidget(self.search)
        f = QHBoxLayout()
        self.status = QComboBox()
        self.status.setAccessibleName("Filter by status")
        for s, label in (("all", "Any status"), ("draft", "Draft"), ("approved", "Approved"),
                         ("transcribed", "Transcribed, no note"), ("new", "Not yet recorded")):
            self.status.addItem(label, s)
        self.template = QComboBox()
        self.template.setAccessibleName("Filter by template")
        self.template.addItem("Any template", "all")
        f.addWidget(self.status)
        f.addWidget(self.template)
        lay.addLayout(f)
        d = QHBoxLayout()
        self.since_on = QCheckBox("Since")
        self.since_on.setAccessibleName("Filter by date")
        self.since = QDateEdit()
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.since.setDate(dt.date.today() - dt.timedelta(days=30))
        self.since.setAccessibleName("Earliest date")
        self.since.setEnabled(False)
        self.since_on.toggled.connect(self.since.setEnabled)
        d.addWidget(self.since_on)
        d.addWidget(self.since, 1)
        lay.addLayout(d)
        self.list = QListWidget()
        self.list.setAccessibleName("Encounters")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        lay.addWidget(self.list, 1)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        for sig in (self.search.textChanged, self.status.currentIndexChanged, self.template.currentIndexChanged,
                    self.since_on.toggled, self.since.dateChanged):
            sig.connect(self.refilter)
        self.list.currentItemChanged.connect(self._current)

    def set_templates(self, ids: list[str]) -> None:
        cur = self.template.currentData()
        self.template.blockSignals(True)
        self.template.clear()
        self.template.addItem("Any template", "all")
        for t in ids:
            self.template.addItem(t, t)
        i = self.template.findData(cur)
        self.template.setCurrentIndex(max(0, i))
        self.template.blockSignals(False)

    def set_rows(self, rows: list[EncounterRow], select: Any = None) -> None:
        self.rows = rows
        self.refilter(select=select)

    def visible_rows(self) -> list[EncounterRow]:
        since = self.since.date().toPython() if self.since_on.isChecked() else None
        return filter_rows(self.rows, "" if self.server_search else self.search.text(), self.status.currentData() or "all",
                           self.template.currentData() or "all", since)

    def refilter(self, *_, select: Any = None) -> None:
        keep = select if select is not None else self.current_id()
        self.list.blockSignals(True)
        self.list.clear()
        for r in self.visible_rows():
            it = QListWidgetItem(r.label)
            it.setData(Qt.ItemDataRole.UserRole, r.id)
            it.setToolTip(f"Encounter {r.id}")
            self.list.addItem(it)
            if keep is not None and r.id == keep:
                self.list.setCurrentItem(it)
        self.list.blockSignals(False)
        if select is not None:
            self.selected.emit(select)

    def current_id(self):
        it = self.list.currentItem()
        return it.data(Qt.ItemDataRole.UserRole) if it else None

    def _current(self, item, _prev) -> None:
        if item is not None:
            self.selected.emit(item.data(Qt.ItemDataRole.UserRole))
