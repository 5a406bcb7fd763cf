#!/usr/bin/env python3
"""The loopback SMTP servers the tests talk to, on aiosmtpd, recording what they receive.

Three servers, whose ports go to --port-file as "starttls PORT", "plain PORT" and "smtps PORT" lines:
  starttls  127.0.0.1, offers STARTTLS (--cert/--key) and, once TLS is on, AUTH PLAIN and LOGIN for
            the --user and --password given; mail without AUTH is accepted too
  plain     127.0.0.1, no STARTTLS, no AUTH
  smtps     --smtps-host, port 465: TLS from the first byte, no AUTH
Each message received is parsed with Python's email package and written to --mail-dir as one JSON
file: the envelope (mail_from, rcpt_tos), the headers as decoded, the text and HTML parts decoded,
the raw message, and whether it came over TLS and by whom. A recipient whose local part is
"refused" is refused with 550, a sender whose local part is "blocked" with 553.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Recorder:
    def __init__(self, mail_dir, name):
        self.mail_dir = mail_dir
        self.name = name
        self.count = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.split("@")[0] == "blocked":
            return "553 5.7.1 <%s>: Sender address rejected: not allowed here" % address
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0] == "refused":
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        record = {
            "server": self.name,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": [[name, str(value)] for name, value in message.items()],
            "content_type": message.get_content_type(),
            "text": text.get_content().replace("\r\n", "\n") if text is not None else None,
            "text_encoding": text["Content-Transfer-Encoding"] if text is not None else None,
            "html": html.get_content().replace("\r\n", "\n") if html is not None and html.get_content_type() == "text/html" else None,
            "raw": envelope.original_content.decode("latin-1"),
            "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None,
            "login": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
        }
        self.count += 1
        path = os.path.join(self.mail_dir, "%s-%d-%d.json" % (self.name, os.getpid(), self.count))
        with open(path + ".tmp", "w") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 2.0.0 Ok: queued as %s-%d" % (self.name, self.count)


# aiosmtpd gives a server 5 s to be ready by default, which a loaded machine can take.
READY_TIMEOUT = 60.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--mail-dir", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--smtps-host", required=True)
    parser.add_argument("--starttls-port", type=int, required=True)
    parser.add_argument("--plain-port", type=int, required=True)
    parser.add_argument("--smtps-port", type=int, required=True, help="TLS from the first byte on 127.0.0.1, at a port other than 465")
    options = parser.parse_args()

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(options.cert, options.key)

    def authenticate(server, session, envelope, mechanism, auth_data):
        good = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == options.user \
            and auth_data.password.decode() == options.password
        return AuthResult(success=good, handled=False, auth_data=auth_data)

    controllers = [
        ("starttls", Controller(Recorder(options.mail_dir, "starttls"), hostname="127.0.0.1", port=options.starttls_port,
                                tls_context=context, require_starttls=False, authenticator=authenticate,
                                auth_require_tls=True, auth_exclude_mechanism=["CRAM-MD5"], ready_timeout=READY_TIMEOUT)),
        ("plain", Controller(Recorder(options.mail_dir, "plain"), hostname="127.0.0.1", port=options.plain_port,
                             ready_timeout=READY_TIMEOUT)),
        ("smtps", Controller(Recorder(options.mail_dir, "smtps"), hostname=options.smtps_host, port=465,
                             ssl_context=context, ready_timeout=READY_TIMEOUT)),
        ("smtps-elsewhere", Controller(Recorder(options.mail_dir, "smtps-elsewhere"), hostname="127.0.0.1", port=options.smtps_port,
                                       ssl_context=context, ready_timeout=READY_TIMEOUT)),
    ]
    for _, controller in controllers:
        controller.start()
    with open(options.port_file + ".tmp", "w") as out:
        for name, controller in controllers:
            out.write("%s %d\n" % (name, controller.port))
    os.rename(options.port_file + ".tmp", options.port_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        for _, controller in controllers:
            controller.stop()


if __name__ == "__main__":
    main()
