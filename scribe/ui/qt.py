"""The one Qt import shim. Every module under scribe/ui imports Qt names from here and nowhere else.

Keeping a single import point means the binding (PySide6 today) is chosen in one file, and the Qt-free test of
the core can block PySide6 knowing that only scribe/ui could ever have reached for it.
"""
from __future__ import annotations

import sys

from PySide6.QtCore import (QByteArray, QElapsedTimer, QEvent, QItemSelectionModel, QMarginsF, QMimeData, QObject,
                            QPoint, QRect, QRectF, QRunnable, QSize, QSortFilterProxyModel, QThread,
                            QThreadPool, QTimer, QUrl, Qt, Signal, Slot, qVersion)
from PySide6.QtGui import (QAction, QBrush, QColor, QFont, QFontMetrics, QGuiApplication, QIcon, QKeySequence,
                           QPageLayout, QPageSize, QPainter, QPalette, QShortcut, QSyntaxHighlighter, QStandardItem, QStandardItemModel,
                           QTextCharFormat, QTextCursor, QTextDocument, QTextFormat)
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QComboBox, QDateEdit, QDialog,
                               QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QSplitter, QStackedWidget, QStatusBar, QStyleFactory,
                               QTableView, QTabWidget, QTextBrowser, QTextEdit, QToolBar, QToolTip, QVBoxLayout, QWidget)

__all__ = [n for n in dir() if n.startswith("Q") or n in ("Qt", "Signal", "Slot", "qVersion")] + ["NONE_GUARDED"]


# PySide6 6.12 on CPython 3.11: every Qt method that returns void hands back None WITHOUT a new reference
# (measured: sys.getrefcount(None) falls by exactly 1 per call to setPosition, setTextCursor, setFormat,
# setBackground, ensureCursorVisible, setExtraSelections, …; 3× per rehighlight). None starts with ~27,000
# references, so a session making a few tens of thousands of such calls (a streaming note, a review with many
# clicks) aborts with "Fatal Python error: none_dealloc" — it did, rendering the review screenshot. CPython 3.12+
# makes None immortal, so the bug is invisible there. None is a static object that is never freed; giving it 2**40
# extra references makes the leak harmless for ~10**12 calls. Done once, here, before any Qt call can run.
_NONE_MARGIN = 1 << 40
if sys.implementation.name == "cpython" and sys.version_info < (3, 12):
    import ctypes as _ctypes
    _ctypes.c_ssize_t.from_address(id(None)).value += _NONE_MARGIN
NONE_GUARDED = sys.getrefcount(None) > _NONE_MARGIN // 2 or sys.version_info >= (3, 12)


def optional_multimedia():
    """QtMultimedia (audio playback of evidence spans) is not in PySide6-Essentials; return None where absent."""
    try:
        from PySide6 import QtMultimedia  # noqa: F401
        return QtMultimedia
    except ImportError:
        return None


def optional_printsupport():
    """QtPrintSupport writes PDFs; present in Essentials but imported lazily so start-up stays quick."""
    from PySide6 import QtPrintSupport
    return QtPrintSupport
