#!/usr/bin/env python3
"""The loopback HTTP and HTTPS server the tests talk to.

Listens on 127.0.0.1 on two free ports (plain and TLS), and plain on a free port of 127.0.0.2 too (another
host, for redirects that leave the first), and writes "http PORT", "https PORT" and "http-other PORT" lines
to --port-file once all listen; with --port N, on that port alone, saying so on standard error (how
bin/example-server runs it for the README's examples). Endpoints:
  /echo, /echo/..., /post   any method: JSON of the method, path, target (as received), query, headers, body and cookies
                   (of every Cookie header), with "form" (the pairs of an urlencoded body) and "parts" (a multipart body's parts: name,
                   filename, content_type, base64); a multipart boundary reads BOUNDARY in the body and the
                   Content-Type header, so that bodies made with different boundaries compare equal
  /text            text/plain; charset=utf-8 "hello, flowspool"
  /latin1          text/html without a charset, body in ISO-8859-1
  /list            a JSON list
  /status/N        status N with the body "status N" (no body for 1xx, 204 and 304, which have none)
  /bytes?type=T&hex=H  the bytes H (hex) with Content-Type T (none when T is not given)
  /gzip            a JSON body sent gzip-compressed (Content-Encoding: gzip)
  /slow?seconds=S  waits S seconds, then answers 200
  /set-cookie?name=value  sets the cookie name=value
  /redirect        302 to /echo; /redirect?to=URL 302 to URL; &status=S answers S (301, 303, 307...) instead;
                   &cookie=NAME=VALUE sets that cookie on the redirect
  /redirects/N     a chain: 302 to /redirects/N-1, and /redirects/0 answers as /echo
  /flaky/KEY?fail=N&status=S  the first N requests for KEY answer S (default 503), later ones 200 with
                   {"tries": n}; &retry_after=SECONDS or &retry_after_date=SECONDS adds a Retry-After header
                   (seconds, or an HTTP date that many seconds ahead); &drop=1 closes the connection without
                   an answer instead. /flaky-times/KEY lists when each request for KEY came (the server's
                   monotonic clock, in seconds)
  /blackhole       {"port": P}: a port on 127.0.0.1 whose backlog is full, where a connection hangs unanswered
                   until the client gives up (a connect timeout)
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
import email.parser
import email.policy
import email.utils
import gzip
import http.cookies
import json
import re
import socket
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


# When each request for /flaky/KEY came, by key (time.monotonic()).
FLAKY_TIMES = {}
FLAKY_LOCK = threading.Lock()


def flaky_arrival(key):
    """Records a request for /flaky/KEY and returns how many came for KEY so far, this one included."""
    with FLAKY_LOCK:
        times = FLAKY_TIMES.setdefault(key, [])
        times.append(time.monotonic())
        return len(times)


# The listening socket of /blackhole and the connections that fill its backlog, made once.
BLACKHOLE = []
BLACKHOLE_LOCK = threading.Lock()


def blackhole_port():
    """A port on 127.0.0.1 that never accepts: its backlog (of one) is full, so the kernel drops further SYNs."""
    with BLACKHOLE_LOCK:
        if not BLACKHOLE:
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            BLACKHOLE.append(listener)
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                try:
                    filler.connect(listener.getsockname())
                except BlockingIOError:
                    pass
                BLACKHOLE.append(filler)
        return BLACKHOLE[0].getsockname()[1]


def multipart_parts(content_type, body):
    """The parts of a multipart/form-data body, as the email package reads them."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    parts = []
    for part in message.iter_parts():
        parts.append({
            "name": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "content_type": part["Content-Type"],
            "base64": base64.b64encode(part.get_payload(decode=True) or b"").decode(),
        })
    return parts


def echo_document(handler, url, query, body):
    """What /echo answers: the request as the server received it."""
    headers = {name: value for name, value in handler.headers.items()}
    content_type = handler.headers.get("Content-Type", "")
    form = parts = None
    if content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        form = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    boundary = re.search(r"boundary=([^;\s]+)", content_type)
    if content_type.lower().startswith("multipart/form-data") and boundary:
        parts = multipart_parts(content_type, body)
        body = body.replace(b"--" + boundary.group(1).encode("latin-1"), b"--BOUNDARY")
        headers = {name: value.replace(boundary.group(1), "BOUNDARY") if name.lower() == "content-type" else value
                   for name, value in headers.items()}
    # Every Cookie header line: a client may send more than one.
    cookies = http.cookies.SimpleCookie()
    for line in handler.headers.get_all("Cookie") or []:
        cookies.load(line)
    document = {
        "method": handler.command,
        "path": url.path,
        "target": handler.path,
        "query": query,
        "headers": headers,
        "body": body.decode("utf-8", "replace"),
        "cookies": {name: morsel.value for name, morsel in cookies.items()},
    }
    if form is not None:
        document["form"] = form
    if parts is not None:
        document["parts"] = parts
    return document


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def send(self, status, body, content_type, extra_headers=()):
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        if not (status < 200 or status in (204, 304)):
            self.send_header("Content-Length", str(len(body)))
        for name, value in extra_headers:
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD" and not (status < 200 or status in (204, 304)):
            self.wfile.write(body)

    def handle_any(self):
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path == "/post" or url.path == "/echo" or url.path.startswith("/echo/") or url.path == "/redirects/0":
            self.send(200, json.dumps(echo_document(self, url, query, body)).encode(), "application/json")
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
            # A non-ASCII Location goes out in UTF-8, as servers send it (http.server writes Latin-1).
            headers = [("Location", query.get("to", "/echo").encode("utf-8").decode("latin-1"))]
            if "cookie" in query:
                headers.append(("Set-Cookie", query["cookie"] + "; Path=/"))
            self.send(int(query.get("status", "302")), b"", "text/plain", headers)
        elif url.path.startswith("/redirects/"):
            left = int(url.path[len("/redirects/"):])
            self.send(302, b"", "text/plain", [("Location", f"/redirects/{left - 1}")])
        elif url.path == "/bytes":
            self.send(200, bytes.fromhex(query.get("hex", "")), query.get("type"))
        elif url.path == "/gzip":
            compressed = gzip.compress(json.dumps({"gzipped": True, "text": "caf\u00e9"}).encode())
            self.send(200, compressed, "application/json", [("Content-Encoding", "gzip")])
        elif url.path.startswith("/flaky/"):
            self.flaky(url.path[len("/flaky/"):], query)
        elif url.path.startswith("/flaky-times/"):
            with FLAKY_LOCK:
                times = list(FLAKY_TIMES.get(url.path[len("/flaky-times/"):], []))
            self.send(200, json.dumps(times).encode(), "application/json")
        elif url.path == "/blackhole":
            self.send(200, json.dumps({"port": blackhole_port()}).encode(), "application/json")
        else:
            self.send(404, b"no such endpoint", "text/plain; charset=utf-8")

    def flaky(self, key, query):
        """/flaky/KEY: fails the first `fail` requests for KEY, then answers which try succeeded."""
        tries = flaky_arrival(key)
        if tries > int(query.get("fail", "1")):
            self.send(200, json.dumps({"tries": tries}).encode(), "application/json")
        elif query.get("drop"):
            self.close_connection = True
        else:
            headers = []
            if "retry_after" in query:
                headers.append(("Retry-After", query["retry_after"]))
            if "retry_after_date" in query:
                when = time.time() + float(query["retry_after_date"])
                headers.append(("Retry-After", email.utils.formatdate(when, usegmt=True)))
            status = int(query.get("status", "503"))
            self.send(status, f"try {tries} failed".encode(), "text/plain; charset=utf-8", headers)

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
