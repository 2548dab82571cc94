import io

import icetrace
from icetrace import __version__
from icetrace.cli import main
from icetrace.records.endpoint import Endpoint
from tests import testdata


def test_version_prints_and_exits_zero(capsys):
    assert main(["--version"]) == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_prints_help():
    out = io.StringIO()
    assert main([], stdout=out) == 0
    assert "usage: icetrace" in out.getvalue()


def test_bad_option_exits_two():
    assert main(["--no-such-option"], stderr=io.StringIO()) == 2


def test_endpoint_text_forms_round_trip():
    assert str(Endpoint("84.155.254.180", 50033)) == "84.155.254.180:50033"
    assert str(Endpoint("2001:db8::1", 3478)) == "[2001:db8::1]:3478"
    assert Endpoint.parse("[2001:db8::1]:3478") == Endpoint("2001:db8::1", 3478)
    assert Endpoint.parse("10.0.0.1:5060") == Endpoint("10.0.0.1", 5060)


def test_cli_start_up_does_not_load_pandas_or_matplotlib():
    import subprocess
    import sys

    code = "import sys, icetrace.cli; icetrace.cli.build_parser(); print(sorted({'pandas', 'matplotlib'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_analyze_shows_progress_on_a_terminal_only():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    capture = testdata.require(testdata.SEED_CALL)
    err = Terminal()
    assert main(["analyze", str(capture)], stdout=io.StringIO(), stderr=err) == 0
    assert err.getvalue().endswith("\n") and " frames " in err.getvalue().split("\r")[-1]
    quiet = io.StringIO()
    assert main(["analyze", str(capture)], stdout=io.StringIO(), stderr=quiet) == 0
    assert quiet.getvalue() == ""


def test_analyze_names_each_part_of_the_html_page_as_it_is_written(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    capture = testdata.require(testdata.SEED_CALL)
    page, err = tmp_path / "r.html", Terminal()
    assert main(["analyze", str(capture), "--html", str(page)], stdout=io.StringIO(), stderr=err) == 0
    line = err.getvalue().split("\r")[-1].splitlines()[-1]
    messages = len(icetrace.analyze([capture]).messages)
    assert line == f"writing {page}: report ... timeline ... ladder ... {messages} messages ... done"
    assert page.read_text(encoding="utf-8").endswith("</html>\n")
    quiet = io.StringIO()
    assert main(["analyze", str(capture), "--html", str(page)], stdout=io.StringIO(), stderr=quiet) == 0
    assert quiet.getvalue() == ""
