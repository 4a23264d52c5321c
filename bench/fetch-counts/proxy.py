#!/usr/bin/env python3
"""Counting, delaying HTTP proxy for subgraph requests (Python 3 stdlib only).

A gateway's subgraph URL `http://HOST:PORT/PATH` is rewritten to
`http://127.0.0.1:PROXY/fwd/HOST:PORT/PATH`. Each request is logged (arrival
time, path, body), held for a fixed delay, then forwarded to the real subgraph;
its answer goes back unchanged. The delay separates the gateway's waves of
requests: requests of one wave arrive within a few ms of each other, and a
request that needs another's answer arrives at least `delay` later.

Standalone: `proxy.py --port 4603 --delay-ms 40`; `GET /_log` returns the
requests logged since the last `POST /_reset` as JSON. fetch_counts.py runs it
in-process instead.
"""

import argparse
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Headers passed to the subgraph (Accept-Encoding is left out so bodies stay plain).
FORWARD_HEADERS = ("content-type", "accept", "authorization")


class Log:
    def __init__(self):
        self.lock = threading.Lock()
        self.records = []
        self.in_flight = 0

    def reset(self):
        with self.lock:
            self.records = []

    def snapshot(self):
        with self.lock:
            return list(self.records), self.in_flight


class Proxy(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, delay_s):
        super().__init__(addr, Handler)
        self.delay_s = delay_s
        self.log = Log()
        self.local = threading.local()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gateways pool connections
    # TCP_NODELAY, and each answer written at once (see reply): otherwise Nagle's
    # algorithm and the client's delayed ACK can add ~40 ms to an answer.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body, content_type="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._headers_buffer.append(b"\r\n" + body)  # headers and body in one write
        self.flush_headers()

    def do_GET(self):
        if self.path == "/_log":
            records, in_flight = self.server.log.snapshot()
            return self.reply(200, json.dumps({"requests": records, "in_flight": in_flight}).encode())
        self.forward(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/_reset":
            self.server.log.reset()
            return self.reply(200, b"{}")
        self.forward(body)

    def forward(self, body):
        arrived = time.monotonic()
        log = self.server.log
        if not self.path.startswith("/fwd/"):
            return self.reply(404, b'{"error":"not a /fwd/HOST:PORT/PATH url"}')
        hostport, _, rest = self.path[len("/fwd/"):].partition("/")
        record = {"t": arrived, "path": "/" + rest, "upstream": hostport,
                  "body": body.decode("utf-8", "replace")}
        with log.lock:
            log.records.append(record)
            log.in_flight += 1
        try:
            time.sleep(self.server.delay_s)
            conns = getattr(self.server.local, "conns", None)
            if conns is None:
                conns = self.server.local.conns = {}
            headers = {k: v for k, v in self.headers.items() if k.lower() in FORWARD_HEADERS}
            for attempt in (0, 1):  # one retry on a stale keep-alive connection
                conn = conns.get(hostport) or http.client.HTTPConnection(hostport, timeout=30)
                conns[hostport] = conn
                try:
                    conn.request(self.command, "/" + rest, body=body or None, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    conn.close()
                    conns.pop(hostport, None)
                    if attempt:
                        raise
            record["status"] = resp.status
            record["done"] = time.monotonic()
            self.reply(resp.status, data, resp.getheader("Content-Type") or "application/json")
        except Exception as e:  # noqa: BLE001 - report any upstream failure as 502
            record["status"] = 502
            record["error"] = str(e)
            self.reply(502, json.dumps({"errors": [{"message": f"proxy: {e}"}]}).encode())
        finally:
            with log.lock:
                log.in_flight -= 1


def start(port, delay_ms):
    """Starts a proxy on 127.0.0.1:port in a daemon thread; returns it."""
    server = Proxy(("127.0.0.1", port), delay_ms / 1000.0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def waves(records, window_ms):
    """Number of waves: requests sorted by arrival, a new wave whenever a
    request arrives more than `window_ms` after the previous one."""
    times = sorted(r["t"] for r in records)
    count = 0
    last = None
    for t in times:
        if last is None or (t - last) * 1000.0 > window_ms:
            count += 1
        last = t
    return count


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=4603)
    ap.add_argument("--delay-ms", type=float, default=40)
    a = ap.parse_args()
    srv = Proxy(("127.0.0.1", a.port), a.delay_ms / 1000.0)
    print(f"proxy on http://127.0.0.1:{a.port}/fwd/HOST:PORT/PATH, delay {a.delay_ms} ms", flush=True)
    srv.serve_forever()
