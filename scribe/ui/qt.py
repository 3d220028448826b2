"""The one Qt import shim. Every module under scribe/ui imports Qt names from here and nowhere else.

Keeping a single import point means the binding (PySide6 today) is chosen in one file, and the Qt-free test of
the core can block PySide6 knowing that only scribe/ui could ever have reached for it.
"""
from __future__ import annotations

from PySide6.QtCore import (QByteArray, QElapsedTimer, QEvent, QItemSelectionModel, QMarginsF, QMimeData, QObject,
                            QPoint, QRect, QRectF, QRunnable, QSize, QSortFilterProxyModel, QThread,
                            QThreadPool, QTimer, QUrl, Qt, Signal, Slot, qVersion)
from PySide6.QtGui import (QAction, QBrush, QColor, QFont, QFontMetrics, QGuiApplication, QIcon, QKeySequence,
                           QPageLayout, QPageSize, QPainter, QPalette, QShortcut, QStandardItem, QStandardItemModel,
                           QTextCharFormat, QTextCursor, QTextDocument, QTextFormat)
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QCheckBox, QComboBox, QDateEdit, QDialog,
                               QDialogButtonBox, QDoubleSpinBox, QFileDialog, QFormLayout, QFrame, QGridLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QPlainTextEdit, QProgressBar, QPushButton, QScrollArea,
                               QSizePolicy, QSpinBox, QSplitter, QStackedWidget, QStatusBar, QStyleFactory,
                               QTableView, QTabWidget, QTextBrowser, QTextEdit, QToolBar, QToolTip, QVBoxLayout, QWidget)

__all__ = [n for n in dir() if n.startswith("Q") or n in ("Qt", "Signal", "Slot", "qVersion")]


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
