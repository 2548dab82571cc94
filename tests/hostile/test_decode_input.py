"""`icetrace decode` on messages too short for Scapy, and on nothing at all."""

from __future__ import annotations

import io

import pytest

from icetrace.cli import main


@pytest.mark.parametrize("message", ["4000", "00", "4000ffff616263"])
def test_scapy_on_a_short_message_is_one_line_and_exit_two(message):
    out, err = io.StringIO(), io.StringIO()
    assert main(["decode", message, "--scapy"], stdout=out, stderr=err) == 2
    assert err.getvalue().startswith("icetrace: Scapy cannot dissect") and err.getvalue().count("\n") == 1


@pytest.mark.parametrize("message", ["", "   ", "0x"])
def test_an_empty_message_is_refused(message):
    err = io.StringIO()
    assert main(["decode", message], stdout=io.StringIO(), stderr=err) == 2
    assert "empty" in err.getvalue()


def test_a_whole_message_still_goes_through_scapy():
    out = io.StringIO()
    binding = "000100002112a442" + "00112233445566778899aabb"
    assert main(["decode", binding, "--scapy"], stdout=out, stderr=io.StringIO()) == 0
    assert "binding request" in out.getvalue() and "###[ STUN ]###" in out.getvalue()
