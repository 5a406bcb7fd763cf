#!/usr/bin/env python3
"""Sends mail as a Python user does with smtplib and the email package, the reference client.

  smtplib_cases.py < CASES

CASES is a JSON list of the SMTP task's inputs. Each is sent as the task would send it, written the
way Python's documentation does it: an EmailMessage with From, To, Cc, Reply-To, Subject, Date and
Message-ID, set_content(body) and add_alternative(html, subtype="html"); smtplib.SMTP, or SMTP_SSL
for use_ssl or port 465, starttls() for use_tls, login() for a login; send_message() to the To, Cc
and Bcc addresses. Prints a JSON list, one outcome per case: "sent", or the server's refusal as
{"code": N, "reply": TEXT}.
"""
import json
import smtplib
import ssl
import sys
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid


def addresses(value):
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def message_for(inputs):
    message = EmailMessage()
    message["From"] = inputs["from"]
    message["To"] = ", ".join(addresses(inputs["to"]))
    for field, name in (("cc", "Cc"), ("reply_to", "Reply-To")):
        if inputs.get(field):
            message[name] = ", ".join(addresses(inputs[field]))
    message["Subject"] = inputs.get("subject", "")
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid()
    message.set_content(inputs.get("body", ""))
    if inputs.get("html") is not None:
        message.add_alternative(inputs["html"], subtype="html")
    return message


def send(inputs):
    host, port = inputs["smtp_host"], int(inputs.get("smtp_port", 25))
    context = ssl.create_default_context(cafile=inputs.get("cacert"))
    if inputs.get("use_ssl") or port == 465:
        client = smtplib.SMTP_SSL(host, port, context=context)
    else:
        client = smtplib.SMTP(host, port)
    with client:
        if inputs.get("use_tls"):
            client.starttls(context=context)
        if inputs.get("login"):
            client.login(inputs["login"], inputs["password"])
        recipients = [address for field in ("to", "cc", "bcc") for address in addresses(inputs.get(field))]
        client.send_message(message_for(inputs), to_addrs=[address for _, address in getaddresses(recipients)])


def outcome(inputs):
    try:
        send(inputs)
        return "sent"
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        return {"code": code, "reply": reply.decode()}
    except smtplib.SMTPResponseException as error:
        return {"code": error.smtp_code, "reply": error.smtp_error.decode()}


def main():
    print(json.dumps([outcome(inputs) for inputs in json.load(sys.stdin)]))


if __name__ == "__main__":
    main()
