"""Logging policy: ids, counts and timings only, never transcript or note text (PHI).

Code logs through `logging.getLogger("scribe.<module>")` with %-formatting of ids and numbers. The file
handler writes to <home>/logs/scribe.log; a filter drops any record whose arguments are long free text,
a second line of defence against a careless log call.
"""
from __future__ import annotations

import logging
import sys

__all__ = ["setup_logging", "PhiFilter"]


class PhiFilter(logging.Filter):
    """Refuse records that carry free text: any string argument longer than 80 chars or with 6+ words."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else (record.args,) if record.args else ()
        for a in args:
            if isinstance(a, str) and (len(a) > 80 or len(a.split()) >= 6):
                record.msg, record.args = "[log record dropped: free text argument]", ()
        return True


class _QuietFileHandler(logging.FileHandler):
    """A log file that cannot be written (disk full, media removed) must not print a traceback per record on
    the terminal: the first failure is said once, in one line, and the file is given up for this run."""

    failed = False

    def handleError(self, record: logging.LogRecord) -> None:
        if not self.failed:
            self.failed = True
            err = sys.exc_info()[1]
            print(f"warning: log file not written ({getattr(err, 'strerror', None) or type(err).__name__}); "
                  "continuing without it", file=sys.stderr)
        try:
            logging.getLogger("scribe").removeHandler(self)
            self.close()
        except Exception:
            pass


def setup_logging(settings, verbose: bool = False) -> None:
    root = logging.getLogger("scribe")
    if getattr(root, "_scribe_configured", False):
        return
    root.setLevel(logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        fh = _QuietFileHandler(settings.logs_dir / "scribe.log", encoding="utf-8")
        fh.setFormatter(fmt)
        fh.addFilter(PhiFilter())
        root.addHandler(fh)
    except OSError:
        pass
    sh = logging.StreamHandler(sys.stderr)
    sh.setLevel(logging.INFO if verbose else logging.WARNING)
    sh.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    sh.addFilter(PhiFilter())
    root.addHandler(sh)
    root.propagate = False
    logging.raiseExceptions = False     # never a "--- Logging error ---" traceback on the user's terminal
    root._scribe_configured = True  # type: ignore[attr-defined]
