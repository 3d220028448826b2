"""A small horizontal level meter (RMS in dBFS) with a falling peak, drawn with QPainter."""
from __future__ import annotations

import math

from .qt import QColor, QPainter, QSize, QWidget

__all__ = ["LevelMeter"]


class LevelMeter(QWidget):
    FLOOR_DB = -60.0

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setAccessibleName("Input level")
        self.level = 0.0     # 0..1 on the dB scale
        self.peak = 0.0
        self.setMinimumHeight(14)

    def sizeHint(self) -> QSize:
        return QSize(200, 16)

    def set_rms(self, rms: float) -> None:
        db = 20 * math.log10(max(float(rms), 1e-6))
        self.level = min(1.0, max(0.0, (db - self.FLOOR_DB) / -self.FLOOR_DB))
        self.peak = max(self.level, self.peak - 0.02)
        self.setAccessibleDescription(f"{db:.0f} dB")
        self.update()

    def reset(self) -> None:
        self.level = self.peak = 0.0
        self.update()

    def paintEvent(self, _ev) -> None:
        p = QPainter(self)
        r = self.rect().adjusted(0, 2, -1, -2)
        p.setPen(self.palette().mid().color())
        p.setBrush(self.palette().base())
        p.drawRect(r)
        w = int(r.width() * self.level)
        col = QColor("#34a853") if self.level < 0.75 else QColor("#fbbc04") if self.level < 0.92 else QColor("#ea4335")
        p.fillRect(r.x() + 1, r.y() + 1, max(0, w - 1), r.height() - 1, col)
        px = r.x() + int(r.width() * self.peak)
        p.setPen(self.palette().text().color())
        p.drawLine(px, r.y() + 1, px, r.bottom())
        p.end()
