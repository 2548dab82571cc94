"""Capture input: file formats, link layers, IP/TCP reassembly and the packet source."""
