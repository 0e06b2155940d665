#!/usr/bin/env python3
"""A server whose latency is known, for the tests of `orchestrate verify`'s load generator.

  GET /paced      answers after LATENCY_MS, and not before the end of a stall
  GET /slow       answers after 1 s
  GET /teapot     answers 418 at once
  POST /stall?ms=N   holds every /paced answer from now for N ms
  POST /stall?ms=N&after=K   the same, once K more /paced requests have been answered
  GET /forced     the fly-force-instance-id of every request that carried one, as JSON

It runs as a process of its own: an in-process server shared the test runner's threads with a
hundred other tests and answered late for reasons of its own. Listens on 127.0.0.1:PORT (argv).
"""
import json, socket, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

PORT, LATENCY = int(sys.argv[1]), int(sys.argv[2]) / 1000
stall_end = 0.0
forced = []
answered = 0
stall_at, stall_ms = None, 0
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self):
        super().setup()
        # Answers leave at once: without this, a two-part answer waits out the client's delayed ACK.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def answer(self, status, body):
        head = f"HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        self.wfile.write(head + body)

    def do_GET(self):
        global answered, stall_at, stall_end
        path = urlparse(self.path).path
        instance = self.headers.get("fly-force-instance-id")
        if instance:
            with lock:
                forced.append(instance)
        if path == "/paced":
            time.sleep(LATENCY)
            while True:
                with lock:
                    wait = stall_end - time.monotonic()
                if wait <= 0:
                    break
                time.sleep(wait)
            self.answer(200, b"ok")
            with lock:
                answered += 1
                if stall_at is not None and answered >= stall_at:
                    stall_end, stall_at = time.monotonic() + stall_ms, None
        elif path == "/slow":
            time.sleep(1)
            self.answer(200, b"late")
        elif path == "/teapot":
            self.answer(418, b"")
        elif path == "/forced":
            with lock:
                self.answer(200, json.dumps(forced).encode())
        else:
            self.answer(404, b"")

    def do_POST(self):
        global stall_end, stall_at, stall_ms
        url = urlparse(self.path)
        if url.path == "/stall":
            query = parse_qs(url.query)
            milliseconds = int(query["ms"][0]) / 1000
            with lock:
                if "after" in query:
                    stall_at, stall_ms = answered + int(query["after"][0]), milliseconds
                else:
                    stall_end = time.monotonic() + milliseconds
            self.answer(200, b"")
        else:
            self.answer(404, b"")

    def log_message(self, *arguments):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


Server(("127.0.0.1", PORT), Handler).serve_forever()
