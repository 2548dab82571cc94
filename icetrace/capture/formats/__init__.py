"""Capture file formats, one module each, joined to `CaptureReader` by `registry.py`."""
