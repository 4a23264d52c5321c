#!/usr/bin/env python3
"""bench/run --telemetry: a minimal OTLP/HTTP receiver on 127.0.0.1:PORT.

It answers every POST (the router's protobuf batches at /v1/traces) with
200 and an empty ExportTraceServiceResponse, and counts the batches and
bytes it got (printed to standard error when it stops), so the traced
router exports for real during the benchmark without a collector to
install.
"""
import http.server
import signal
import sys

batches = 0
received = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global batches, received
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        batches += 1
        received += length
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def stop(*_):
    print(f"otlp receiver: {batches} batches, {received} bytes", file=sys.stderr)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
port = int(sys.argv[1]) if len(sys.argv) > 1 else 4318
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
try:
    server.serve_forever()
finally:
    stop()
