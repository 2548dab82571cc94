"""The tshark engine: same records as the native reader; SIP over TLS read with a key log.

The TLS test makes its own session on loopback (a Python TLS server and client on 127.0.0.1,
tcpdump capturing that port only), bounded in time, and removes everything after.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest

from icetrace.cli import main
from tests import testdata
from tests.signaling.lync_messages import CALL_ID, multipart_invite, session_progress

needs_tshark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


@pytest.mark.tshark
@needs_tshark
def test_engines_agree_on_messages():
    path = testdata.require(testdata.PUBLIC / "ntop_nDPI" / "teams.pcap")
    outputs = []
    for engine in ("native", "tshark"):
        out = io.StringIO()
        assert main(["messages", "--engine", engine, "--format", "jsonl", str(path)], stdout=out) == 0
        outputs.append(out.getvalue())
    assert outputs[0] and outputs[0] == outputs[1]


@pytest.mark.tshark
@needs_tshark
@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("openssl") is None,
    reason="needs root, tcpdump and openssl to record a loopback TLS session",
)
def test_sip_over_tls_with_key_log(tmp_path):
    cert, key, keylog, pcap = (tmp_path / n for n in ("cert.pem", "key.pem", "keys.log", "tls.pcap"))
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=icetrace.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    # -Z root: tcpdump would otherwise drop to its own user, which cannot write into tmp_path
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-U", "-Z", "root", "-w", str(pcap), "tcp", "port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)  # tcpdump needs a moment before it captures
        server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_ctx.load_cert_chain(cert, key)

        def serve() -> None:
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(5)
                received = b""
                while b"--\r\n" not in received:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    received += chunk
                tls.sendall(session_progress("b0b1", "bbbb"))
                time.sleep(0.2)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client_ctx.check_hostname = False
        client_ctx.verify_mode = ssl.CERT_NONE
        client_ctx.keylog_filename = str(keylog)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with client_ctx.wrap_socket(raw) as tls:
                tls.sendall(multipart_invite())
                tls.settimeout(5)
                reply = b""
                while b"a=label:main-audio" not in reply:
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    reply += chunk
        thread.join(timeout=5)
        time.sleep(0.5)
    finally:
        dump.terminate()
        dump.wait(timeout=5)
        listener.close()
    out = io.StringIO()
    # without the key log, SIP over TLS is invisible
    assert main(["analyze", str(pcap), "--json", "-"], stdout=out, stderr=io.StringIO()) == 0
    assert '"call_id": "' + CALL_ID not in out.getvalue()
    from icetrace.analysis import analyze

    analysis = analyze([pcap], tls_keylog=keylog)
    streams = [s for s in analysis.reconstruction.streams if s.call_id == CALL_ID]
    assert streams, analysis.problems
    addresses = {str(c.address) for c in streams[0].controlling.candidates}
    assert "84.155.254.180:50033" in addresses
    # a pyshark user's capture brings its key log as a preference
    import pyshark

    capture = pyshark.FileCapture(str(pcap), override_prefs={"tls.keylog_file": str(keylog)})
    try:
        through_pyshark = analyze([capture])
    finally:
        capture.close()
    assert [s.call_id for s in through_pyshark.reconstruction.streams] == [
        s.call_id for s in analysis.reconstruction.streams
    ]
