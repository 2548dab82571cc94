"""Plain-HTTP signaling for the browser recordings: a mailbox per browser, JSON bodies.

Run inside the public namespace by browser_lab.py:
  python signaling_server.py --listen 203.0.113.254:8080 --dir WORK

GET /page?...       the call page (webrtc_page.html; its query tells it who it is)
POST /send?from=&to=&kind=   append a message (offer, answer, candidate) to the peer's mailbox
GET /poll?name=&since=N      messages N.. of that mailbox, held up to 5 s while there are none
GET /ws?name=       the same mailboxes over a WebSocket (the page's signal=ws): the page sends
                    {to, kind, body}, and receives its mailbox's messages as they arrive
POST /result?name=  the page's getStats() and descriptions, written to WORK/<name>.result.json
POST /dump?name=    the page's webrtc-internals-style dump, written to WORK/<name>.webrtc-internals.json
POST /log?name=     a line of the page's log, printed (the lab keeps stdout)
Nothing is encrypted, so a capture of the public segment holds the whole exchange.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGE = Path(__file__).resolve().parent / "webrtc_page.html"
HOLD = 5.0
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


class Mailboxes:
    def __init__(self) -> None:
        self.boxes: dict[str, list[dict]] = {}
        self.changed = threading.Condition()

    def put(self, to: str, message: dict) -> None:
        with self.changed:
            self.boxes.setdefault(to, []).append(message)
            self.changed.notify_all()

    def take(self, name: str, since: int) -> list[dict]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.boxes.get(name, [])) > since, timeout=HOLD)
            return self.boxes.get(name, [])[since:]


def _ws_frame(data: bytes) -> bytes:
    """One unmasked text frame (a server's frames are not masked, RFC 6455 §5.1)."""
    n = len(data)
    if n < 126:
        return bytes([0x81, n]) + data
    if n < 65536:
        return bytes([0x81, 126]) + n.to_bytes(2, "big") + data
    return bytes([0x81, 127]) + n.to_bytes(8, "big") + data


def handler(boxes: Mailboxes, work: Path) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, code: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            if url.path == "/ws" and "websocket" in self.headers.get("Upgrade", "").lower():
                self._websocket(query["name"])
            elif url.path == "/page":
                self._reply(200, PAGE.read_bytes(), "text/html; charset=utf-8")
            elif url.path == "/poll":
                messages = boxes.take(query["name"], int(query.get("since", "0")))
                self._reply(200, json.dumps(messages).encode())
            else:
                self._reply(404, b"{}")

        def do_POST(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if url.path == "/send":
                boxes.put(query["to"], {"from": query["from"], "kind": query["kind"], "body": json.loads(body)})
                print(f"{query['from']} -> {query['to']}: {query['kind']}", flush=True)
            elif url.path == "/result":
                (work / f"{query['name']}.result.json").write_bytes(body)
                print(f"{query['name']}: result", flush=True)
            elif url.path == "/dump":
                (work / f"{query['name']}.webrtc-internals.json").write_bytes(body)
                print(f"{query['name']}: dump", flush=True)
            elif url.path == "/log":
                print(f"{query['name']}: {body.decode(errors='replace')}", flush=True)
            else:
                self._reply(404, b"{}")
                return
            self._reply(200, b"{}")

        def _websocket(self, name: str) -> None:
            """RFC 6455 handshake, then: each text message from the page is {to, kind, body} for a
            mailbox; the page's own mailbox is pushed to it as one text message per entry. Chromium
            offers permessage-deflate (RFC 7692): accepted, so its frames arrive compressed; this
            server's frames go out uncompressed, as the extension allows per message."""
            key = self.headers["Sec-WebSocket-Key"].strip()
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            deflate = "permessage-deflate" in self.headers.get("Sec-WebSocket-Extensions", "")
            self.protocol_version = "HTTP/1.1"  # browsers refuse a 101 in HTTP/1.0
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            if deflate:
                self.send_header("Sec-WebSocket-Extensions", "permessage-deflate")
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            closed = threading.Event()
            lock = threading.Lock()

            def push() -> None:
                since = 0
                while not closed.is_set():
                    for message in boxes.take(name, since):
                        since += 1
                        data = json.dumps(message).encode()
                        with lock:
                            self.wfile.write(_ws_frame(data))
                            self.wfile.flush()

            threading.Thread(target=push, daemon=True).start()
            inflater = zlib.decompressobj(-15)
            parts: list[bytes] = []
            compressed = False
            try:
                while True:
                    head = self.rfile.read(2)
                    if len(head) < 2:
                        break
                    length = head[1] & 0x7F
                    if length == 126:
                        length = int.from_bytes(self.rfile.read(2), "big")
                    elif length == 127:
                        length = int.from_bytes(self.rfile.read(8), "big")
                    mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(length)))
                    opcode = head[0] & 0x0F
                    if opcode == 8:
                        break
                    if opcode >= 8:
                        continue
                    if opcode != 0:
                        compressed = bool(head[0] & 0x40)
                    parts.append(payload)
                    if not head[0] & 0x80:
                        continue
                    data = b"".join(parts)
                    parts.clear()
                    if compressed:
                        data = inflater.decompress(data + b"\x00\x00\xff\xff")
                    message = json.loads(data)
                    boxes.put(message["to"], {"from": name, "kind": message["kind"], "body": message["body"]})
                    print(f"{name} -> {message['to']}: {message['kind']} (websocket)", flush=True)
            finally:
                closed.set()

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    return Handler


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--listen", required=True, help="IP:PORT")
    p.add_argument("--dir", required=True)
    args = p.parse_args()
    host, port = args.listen.rsplit(":", 1)
    server = ThreadingHTTPServer((host, int(port)), handler(Mailboxes(), Path(args.dir)))
    server.daemon_threads = True
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
