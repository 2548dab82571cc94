"""Exceptions raised for whole-input problems; per-packet problems become anomalies instead."""


class IcetraceError(Exception):
    """Base class of every error icetrace raises on purpose."""


class InputError(IcetraceError):
    """An input (capture, log, SDP file) cannot be read at all; names the file and the place."""


class OutputError(IcetraceError):
    """The output cannot be written (disk full, read-only, I/O error); names what was being written."""
