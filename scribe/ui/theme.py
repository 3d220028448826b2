"""Light and dark themes that follow the OS, and the few colours the review screen needs in both.

Qt 6.5+ reports the OS colour scheme through QStyleHints; Fusion with the platform palette renders both cleanly at
any device-pixel ratio (Qt 6 scales for high DPI by default; we only ask for pass-through rounding so 125 %/150 %
displays are not snapped to 100 %/200 %).
"""
from __future__ import annotations

from dataclasses import dataclass

from .qt import QApplication, QColor, QGuiApplication, QPalette, QStyleFactory, Qt

__all__ = ["prepare_high_dpi", "apply_theme", "Colors", "colors", "is_dark"]


def prepare_high_dpi() -> None:
    """Call before QApplication exists."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def is_dark() -> bool:
    app = QGuiApplication.instance()
    if app is None:
        return False
    try:
        if app.styleHints().colorScheme() == Qt.ColorScheme.Dark:
            return True
        if app.styleHints().colorScheme() == Qt.ColorScheme.Light:
            return False
    except AttributeError:
        pass
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


@dataclass(frozen=True)
class Colors:
    partial: QColor        # live transcript text not yet final
    evidence: QColor       # background of the transcript span supporting the selected sentence
    flag: QColor           # background of a flagged number/drug
    unsupported: QColor    # underline of a sentence with no support
    ok: QColor
    warn: QColor


def colors() -> Colors:
    if is_dark():
        return Colors(QColor("#9aa0a6"), QColor("#1f4e79"), QColor("#6b4e00"), QColor("#ff6b6b"),
                      QColor("#81c995"), QColor("#fdd663"))
    return Colors(QColor("#6b6b6b"), QColor("#cfe3ff"), QColor("#ffe08a"), QColor("#c5221f"),
                  QColor("#188038"), QColor("#b06000"))


def _dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 30), QColor(45, 45, 45), QColor(230, 230, 230)
    for role, c in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                    (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
                    (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                    (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipBase, window),
                    (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.Highlight, QColor(42, 130, 218)),
                    (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                    (QPalette.ColorRole.PlaceholderText, QColor(150, 150, 150)),
                    (QPalette.ColorRole.Link, QColor(138, 180, 248))):
        p.setColor(role, c)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    return p


def apply_theme(app: QApplication) -> None:
    """Fusion everywhere (consistent metrics for screenshots and tests); palette from the OS scheme, live."""
    app.setStyle(QStyleFactory.create("Fusion"))

    def refresh(*_):
        app.setPalette(_dark_palette() if is_dark() else app.style().standardPalette())

    refresh()
    try:
        app.styleHints().colorSchemeChanged.connect(refresh)
    except AttributeError:
        pass
