#!/usr/bin/env python3
"""The loopback HTTP and HTTPS server the tests talk to.

Listens on 127.0.0.1 on two free ports (plain and TLS), and plain on a free port of 127.0.0.2 too (another
host, for redirects that leave the first), and writes "http PORT", "https PORT" and "http-other PORT" lines
to --port-file once all listen; with --port N, on that port alone, saying so on standard error (how
bin/example-server runs it for the README's examples). Endpoints:
  /echo, /echo/..., /post   any method: JSON of the method, path, target (as received), query, headers, body and cookies
  /text            text/plain; charset=utf-8 "hello, flowspool"
  /latin1          text/html without a charset, body in ISO-8859-1
  /list            a JSON list
  /status/N        status N with the body "status N"
  /slow?seconds=S  waits S seconds, then answers 200
  /set-cookie?name=value  sets the cookie name=value
  /redirect        302 to /echo; /redirect?to=URL 302 to URL
  /count/KEY       counts the requests made for KEY; /counts returns them all as JSON
  /hold/KEY        counted as /count/KEY, then held until /release/KEY (at most 5 minutes); answers
                   {"released": KEY}. /arrived/KEY answers once a request for /hold/KEY has come (at
                   most 60 s; 504 if none did): a test acts while a task's request is in flight
  /jokes/random    the JSON of the spec's REST example: {"value": {"joke": ...}}
  /s3-checksum/BUCKET/KEY  an S3 GetObject answer (with S3's x-amz-request-id and x-amz-id-2) whose
                   x-amz-checksum-crc32 matches its body for a KEY "right", and does not for any other
"""
import argparse
import base64
import http.cookies
import json
import ssl
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


# Requests counted per key by /count/KEY: how a storm tells a task run twice.
COUNTS = {}
COUNTS_LOCK = threading.Lock()

# The events of /hold/KEY, by key: the request has arrived, and the test has released it.
HOLDS = {}
HOLDS_LOCK = threading.Lock()


def hold_events(key):
    with HOLDS_LOCK:
        return HOLDS.setdefault(key, (threading.Event(), threading.Event()))


def count(key):
    with COUNTS_LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def send(self, status, body, content_type, extra_headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/post" or url.path == "/echo" or url.path.startswith("/echo/"):
            cookies = http.cookies.SimpleCookie(self.headers.get("Cookie", ""))
            document = {
                "method": self.command,
                "path": url.path,
                "target": self.path,
                "query": query,
                "headers": {name: value for name, value in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "cookies": {name: morsel.value for name, morsel in cookies.items()},
            }
            self.send(200, json.dumps(document).encode(), "application/json")
        elif url.path == "/text":
            self.send(200, "hello, flowspool".encode(), "text/plain; charset=utf-8")
        elif url.path == "/latin1":
            self.send(200, "caf\u00e9".encode("latin-1"), "text/html")
        elif url.path == "/list":
            self.send(200, b"[1, 2, 3]", "application/json")
        elif url.path.startswith("/status/"):
            code = int(url.path.split("/")[2])
            self.send(code, f"status {code}".encode(), "text/plain; charset=utf-8")
        elif url.path == "/slow":
            time.sleep(float(query.get("seconds", "5")))
            self.send(200, b"slow answer", "text/plain; charset=utf-8")
        elif url.path == "/set-cookie":
            headers = [("Set-Cookie", f"{name}={value}; Path=/") for name, value in query.items()]
            self.send(200, b"{}", "application/json", headers)
        elif url.path == "/jokes/random":
            joke = {"type": "success", "value": {"id": 1, "joke": "Chuck Norris counts to infinity. Twice."}}
            self.send(200, json.dumps(joke).encode(), "application/json")
        elif url.path.startswith("/count/"):
            count(url.path[len("/count/"):])
            self.send(200, b"counted", "text/plain; charset=utf-8")
        elif url.path.startswith("/hold/"):
            key = url.path[len("/hold/"):]
            count(key)
            arrived, released = hold_events(key)
            arrived.set()
            released.wait(300)
            self.send(200, json.dumps({"released": key}).encode(), "application/json")
        elif url.path.startswith("/arrived/"):
            arrived, _ = hold_events(url.path[len("/arrived/"):])
            if arrived.wait(60):
                self.send(200, b"arrived", "text/plain; charset=utf-8")
            else:
                self.send(504, b"no request came", "text/plain; charset=utf-8")
        elif url.path.startswith("/release/"):
            _, released = hold_events(url.path[len("/release/"):])
            released.set()
            self.send(200, b"released", "text/plain; charset=utf-8")
        elif url.path == "/counts":
            with COUNTS_LOCK:
                document = json.dumps(COUNTS)
            self.send(200, document.encode(), "application/json")
        elif url.path.startswith("/s3-checksum/"):
            # An S3 GetObject answer with the body's CRC32 in x-amz-checksum-crc32 for a key "right",
            # and a CRC32 of other bytes for any other key.
            body = b"checked by the client"
            crc = zlib.crc32(body if url.path.endswith("/right") else b"other bytes").to_bytes(4, "big")
            self.send(200, body, "binary/octet-stream", [("x-amz-checksum-crc32", base64.b64encode(crc).decode()),
                                                         ("x-amz-request-id", "0123456789ABCDEF"), ("x-amz-id-2", "aG9zdCBpZA==")])
        elif url.path == "/redirect":
            self.send(302, b"", "text/plain", [("Location", query.get("to", "/echo"))])
        else:
            self.send(404, b"no such endpoint", "text/plain; charset=utf-8")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = handle_any

    def handle_one_request(self):
        # Methods outside the list above reach handle_any too: any HTTP method is a test case.
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()

    plain = Server(("127.0.0.1", args.port), Handler)
    if not args.port_file:
        import sys
        print(f"serving http://127.0.0.1:{plain.server_address[1]}/ (/echo, /jokes/random, /status/N, /slow?seconds=S ...); Ctrl-C stops it", file=sys.stderr, flush=True)
        try:
            plain.serve_forever()
        except KeyboardInterrupt:
            pass
        return
    servers = [("http", plain)]
    if args.cert:
        secure = Server(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        secure.socket = context.wrap_socket(secure.socket, server_side=True)
        servers.append(("https", secure))
    # Loopback only, never 0.0.0.0: the tests' servers are not for the network.
    servers.append(("http-other", Server(("127.0.0.2", 0), Handler)))
    for _, server in servers[1:]:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    with open(args.port_file + ".tmp", "w") as file:
        for scheme, server in servers:
            file.write(f"{scheme} {server.server_address[1]}\n")
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    plain.serve_forever()


if __name__ == "__main__":
    main()
