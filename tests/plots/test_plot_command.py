"""`icetrace plot` writes the figure in the format its name asks for."""

from __future__ import annotations

import io

import pytest

from icetrace.cli import main
from tests import testdata


@pytest.mark.parametrize(
    ("kind", "suffix", "magic"),
    [("timeline", "svg", b"<?xml"), ("ladder", "pdf", b"%PDF-"), ("ladder", "png", b"\x89PNG")],
)
def test_plot_writes_png_svg_pdf(tmp_path, kind, suffix, magic):
    target = tmp_path / f"{kind}.{suffix}"
    out = io.StringIO()
    assert main(["plot", "--kind", kind, str(testdata.SEED_CALL), "--out", str(target)], stdout=out) == 0
    assert out.getvalue() == f"{target}\n"
    data = target.read_bytes()
    assert data.startswith(magic)
    if suffix == "svg":
        assert b"<svg" in data and b"check-success" in data  # the drawn success markers keep their id
