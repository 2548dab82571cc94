"""Plain-HTTP signaling for the browser recordings: a mailbox per browser, JSON bodies.

Run inside the public namespace by browser_lab.py:
  python signaling_server.py --listen 203.0.113.254:8080 --dir WORK

GET /page?...       the call page (webrtc_page.html; its query tells it who it is)
POST /send?from=&to=&kind=   append a message (offer, answer, candidate) to the peer's mailbox
GET /poll?name=&since=N      messages N.. of that mailbox, held up to 5 s while there are none
POST /result?name=  the page's getStats() and descriptions, written to WORK/<name>.result.json
POST /dump?name=    the page's webrtc-internals-style dump, written to WORK/<name>.webrtc-internals.json
POST /log?name=     a line of the page's log, printed (the lab keeps stdout)
Nothing is encrypted, so a capture of the public segment holds the whole exchange.
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PAGE = Path(__file__).resolve().parent / "webrtc_page.html"
HOLD = 5.0


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
            if url.path == "/page":
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
