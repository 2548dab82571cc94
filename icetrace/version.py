"""icetrace's version, below every module that names it (the package, the CLI, the pcapng writer)."""

__version__ = "0.1.0"
