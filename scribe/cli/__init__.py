"""Command-line face of Scribe: one module per subcommand, each with `register(subparsers)`.

Errors reach the user here and only here: one line on stderr and the error's exit code.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from ..config import load_settings
from ..errors import ScribeError

__all__ = ["main", "build_parser"]

# subcommand modules, in help order; each defines register(sub) and sets func=run(args, settings) -> int
COMMANDS = ["transcribe", "note", "dictate", "notes", "export", "templates", "models", "selfcheck", "audit",
            "store"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m scribe", description="Offline, privacy-first scribe. "
                                "With no command: the desktop app, or a headless demo where no display exists.")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress and timings to stderr (never PHI)")
    p.add_argument("--provider", help="execution provider: auto, cpu, dml, coreml (default: SCRIBE_PROVIDER or auto)")
    p.add_argument("--threads", type=int, help="inference threads (default: physical cores)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as e:
            if e.name and e.name.endswith(f"cli.{name}"):
                continue  # subcommand not built yet
            raise
        mod.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from ..logs import setup_logging
    from ..providers import check_local
    from ..safefiles import lockdown
    try:
        settings = load_settings()
        lockdown(settings.home)     # before anything is written: owner-only files, temporary files in SCRIBE_HOME
        if args.provider:
            settings.provider = args.provider
        if args.threads:
            settings.threads = args.threads
        setup_logging(settings, verbose=args.verbose)
        logging.getLogger("scribe").info("command=%s provider=%s threads=%d", args.command or "launch",
                                         settings.provider, settings.threads)
        check_local(settings.provider)      # a remote-inference provider is refused before anything runs
        if not args.command:
            from .launch import run as launch
            return launch(args, settings)
        return int(args.func(args, settings) or 0)
    except ScribeError as e:
        print(e.one_line(), file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
