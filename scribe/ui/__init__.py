"""Desktop face of Scribe (PySide6). Everything Qt lives in this package; the core never imports it.

    python -m scribe            # opens this window where a display exists
"""
from __future__ import annotations

__all__ = ["run_app", "create_window"]


def create_window(app, runner=None):
    """A MainWindow over a ScribeApp (a QApplication must exist)."""
    from .main_window import MainWindow
    return MainWindow(app, runner)


def run_app(settings, argv: list[str] | None = None) -> int:
    """Start the desktop app: high-DPI policy, OS theme, the main window locked behind the unlock dialog."""
    import sys

    from ..app import ScribeApp
    from .qt import QApplication
    from .theme import apply_theme, prepare_high_dpi

    prepare_high_dpi()
    qapp = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    qapp.setApplicationName("Scribe")
    qapp.setApplicationDisplayName("Scribe")
    qapp.setOrganizationName("Scribe")
    apply_theme(qapp)
    win = create_window(ScribeApp(settings))
    win.start()
    return int(qapp.exec())
