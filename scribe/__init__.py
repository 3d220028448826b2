"""Scribe: an offline, privacy-first scribe. Speech → transcript → structured, evidence-linked note."""
__version__ = "0.1.0"
__all__ = ["__version__"]
