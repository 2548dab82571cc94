"""Output that cannot be written, and arguments that were quietly wrong: one line, exit non-zero."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from icetrace.cli import main
from icetrace.signaling.sources import MAX_LOG_FILE, MAX_SDP_FILE

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "captures" / "lync" / "seed-call"
CAPTURE = str(SEED / "capture.pcap")


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def _one_line(err: str) -> bool:
    return err.startswith("icetrace: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "argv",
    [["analyze", CAPTURE], ["analyze", "--json", "-", CAPTURE], ["candidates", CAPTURE], ["messages", CAPTURE], []],
)
def test_stdout_on_a_full_disk(argv):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "icetrace", *argv], stdout=full, stderr=subprocess.PIPE, text=True, cwd=ROOT
        )
    assert result.returncode == 2
    assert result.stderr == "icetrace: cannot write the output: No space left on device\n"


@pytest.mark.parametrize(
    "out, says",
    [
        ("missing/dir/ladder.png", "no such directory"),
        ("ladder.gif", "must end in .png, .svg or .pdf"),
        ("ladder", "must end in .png, .svg or .pdf"),
        (".", "is a directory"),
    ],
)
def test_plot_out_is_checked_before_the_analysis(tmp_path, monkeypatch, out, says):
    monkeypatch.chdir(tmp_path)
    status, _, err = _cli("plot", CAPTURE, "--out", out)
    assert status == 2 and _one_line(err) and says in err
    assert list(tmp_path.iterdir()) == []  # nothing written, not even DIR.png


def test_plot_out_directory_is_not_turned_into_dir_png(tmp_path):
    target = tmp_path / "plots"
    target.mkdir()
    status, _, err = _cli("plot", CAPTURE, "--out", str(target))
    assert status == 2 and "is a directory" in err
    assert not (tmp_path / "plots.png").exists()


def test_plot_into_a_read_only_directory(tmp_path):
    if os.geteuid() == 0:
        # root writes anywhere; a file where the directory should be stops it too
        blocker = tmp_path / "file"
        blocker.write_text("x")
        status, _, err = _cli("plot", CAPTURE, "--out", str(blocker / "ladder.png"))
        assert status == 2 and "no such directory" in err
        return
    tmp_path.chmod(0o500)
    status, _, err = _cli("plot", CAPTURE, "--out", str(tmp_path / "ladder.png"))
    assert status == 2 and _one_line(err) and "cannot write" in err


@pytest.mark.parametrize("argv", [["candidates", "/dev/zero"], ["analyze", "--sdp", "/dev/zero"]])
def test_endless_text_input_is_refused_at_its_bound(argv):
    status, _, err = _cli(*argv)
    assert status == 2 and _one_line(err) and "larger than 1 MB" in err


def test_a_log_at_its_bound(tmp_path):
    assert MAX_SDP_FILE < MAX_LOG_FILE
    status, _, err = _cli("analyze", "--log", "/dev/zero")
    assert status == 2 and f"larger than {MAX_LOG_FILE >> 20} MB" in err


def test_an_empty_sdp_file_is_refused(tmp_path):
    empty = tmp_path / "offer.sdp"
    empty.write_text("\n  \n")
    status, _, err = _cli("analyze", "--sdp", str(empty))
    assert status == 2 and _one_line(err) and "empty" in err


def test_a_read_error_in_a_text_input():
    status, _, err = _cli("analyze", "--sdp", "/proc/self/mem")
    assert status == 2 and _one_line(err) and "Input/output error" in err


@pytest.mark.parametrize("option", ["--tls-keylog", "--rsa-key"])
def test_a_missing_key_file_is_refused(tmp_path, option):
    status, _, err = _cli("analyze", CAPTURE, option, str(tmp_path / "nope"))
    assert status == 2 and _one_line(err) and "no such file" in err


def test_an_empty_json_name_is_refused():
    status, out, err = _cli("analyze", CAPTURE, "--json", "")
    assert status == 2 and _one_line(err) and out == ""


def test_candidates_refuses_a_pipe(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    status, _, err = _cli("candidates", str(fifo))  # refused before opening: nothing blocks
    assert status == 2 and _one_line(err) and "pipe" in err


def test_sdp_through_a_pipe_is_read_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    sdp = b"v=0\r\nm=audio 5000 RTP/AVP 0\r\na=candidate:1 1 UDP 2130706431 10.0.0.1 5000 typ host\r\n"

    def feed() -> None:
        with open(fifo, "wb") as fh:
            fh.write(sdp)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    status, _, err = _cli("analyze", "--sdp", str(fifo))
    writer.join(5)
    assert status == 0, err


@pytest.mark.parametrize("address", ["garbage", "tcp://", "tcp://host:notaport", "::::", ""])
@pytest.mark.parametrize("command", ["check", "corpus"])
def test_a_dask_address_that_is_no_address_is_a_bad_argument(tmp_path, address, command):
    """And the Client that failed to start is gone when the command returns: left for a later
    collection, its finaliser could run inside another Client's start and wait for ever on the
    lock that start holds (a second command in one process, as in this suite)."""
    import gc

    distributed = pytest.importorskip("distributed")
    extra = ["--out", str(tmp_path / "c.parquet")] if command == "corpus" else []
    gc.collect()
    gc.disable()
    try:
        status, out, err = _cli(command, str(SEED), "--dask", address, *extra)
        alive = [o for o in gc.get_objects() if isinstance(o, distributed.Client)]
    finally:
        gc.enable()
    assert status == 2 and _one_line(err), err
    assert "--dask" in err and "internal error" not in err
    assert alive == []


def test_an_error_python_cannot_raise_is_one_line(monkeypatch):
    """A finaliser that fails (as generators closed while memory runs out do) is not a raw traceback."""

    class Fails:
        def __del__(self) -> None:
            raise MemoryError

    def run(args, out, err) -> int:
        Fails()
        return 0

    monkeypatch.setattr("icetrace.commands.decode.run", run)
    status, _, err = _cli("decode", "00")
    assert status == 0 and _one_line(err)
    assert err == "icetrace: warning: an error while cleaning up was ignored: MemoryError\n"


def _raises(*_args: object, **_kwargs: object) -> None:
    raise RuntimeError("a failure part-way through the output")


@pytest.mark.parametrize(
    "argv, where",
    [
        (["plot", CAPTURE, "--out", "{out}.svg"], "matplotlib.text.Text.draw"),  # after the SVG's head
        (["plot", CAPTURE, "--kind", "timeline", "--out", "{out}.pdf"], "matplotlib.text.Text.draw"),
        (["analyze", CAPTURE, "--html", "{out}.html"], "icetrace.report.html._svg"),
        (["analyze", CAPTURE, "--json", "{out}.json"], "icetrace.analysis.Analysis.to_dict"),
        (["annotate", CAPTURE, "-o", "{out}.pcapng"], "icetrace.capture.formats.base.Copying.notes"),
    ],
)
def test_a_command_that_fails_part_way_leaves_no_file(tmp_path, monkeypatch, argv, where):
    """A half-written page, image or copy would be taken for a result: the file is whole or absent."""
    out = str(tmp_path / "out")
    argv = [a.format(out=out) for a in argv]
    (target,) = [Path(a) for a in argv if a.startswith(out)]
    target.write_bytes(b"an earlier result")  # opened for writing, it is gone either way
    monkeypatch.setattr(where, _raises)
    status, _, err = _cli(*argv)
    assert status == 3 and "RuntimeError: a failure part-way" in err
    assert list(tmp_path.iterdir()) == []


def test_an_output_that_is_no_regular_file_is_left_alone(tmp_path):
    from icetrace.output import whole_or_absent

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(RuntimeError), whole_or_absent(fifo) as fh:
            fh.write("part")
            _raises()
        assert os.read(reader, 10) == b"part" and fifo.exists()
    finally:
        os.close(reader)
    with whole_or_absent(tmp_path / "whole.txt") as fh:
        fh.write("whole")
    assert (tmp_path / "whole.txt").read_text() == "whole"
