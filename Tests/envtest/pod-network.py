"""What answers for every pod and for the node in the tests' network namespace.

The kubelet stand-in gives pods addresses in the namespace's pod range: a pod whose last octet is
below 128 serves a healthy `pet-backend`, one at 128 or above answers its health checks with 503.
The API server reaches them through its service proxy, and reaches this "kubelet" on port 10250
(TLS, the test CA's certificate) for `pods/NAME/log`, read from LOGS/namespace/pod/container.

Usage: pod-network.py APP_PORT CERT KEY LOGS
"""
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import urllib.parse

app_port, cert, key, logs = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class App(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        healthy = int(self.connection.getsockname()[0].split(".")[-1]) < 128
        body = json.dumps({"status": "ok" if healthy else "unhealthy", "checks": {"database": "up" if healthy else "down"}}).encode()
        self.send_response(200 if healthy else 503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Kubelet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        parts = url.path.strip("/").split("/")
        if len(parts) != 4 or parts[0] != "containerLogs" or ".." in parts:
            self.send_error(404)
            return
        path = os.path.join(logs, parts[1], parts[2], parts[3])
        if not os.path.exists(path):
            self.send_error(404, "no log for this container")
            return
        with open(path, "rb") as handle:
            lines = handle.read().splitlines(keepends=True)
        tail = urllib.parse.parse_qs(url.query).get("tailLines")
        if tail:
            lines = lines[-int(tail[0]):]
        body = b"".join(lines)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


kubelet = Server(("0.0.0.0", 10250), Kubelet)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
kubelet.socket = context.wrap_socket(kubelet.socket, server_side=True)
threading.Thread(target=kubelet.serve_forever, daemon=True).start()
Server(("0.0.0.0", app_port), App).serve_forever()
