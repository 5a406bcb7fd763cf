#!/usr/bin/env python3
"""Runs command lines through redis-cli, the reference client, and prints its replies as JSON.

  redis_cli_cases.py PORT < LINES

Each line of standard input is one command as a person types it at redis-cli's prompt; all go
through one `redis-cli -2 --quoted-json` process (RESP2, as flowspool's REDIS task speaks it). The
output is a JSON list, one reply per line, in the form the REDIS task gives its result: strings as
text when their bytes are UTF-8 and {"base64": ...} otherwise, an error reply {"error": TEXT}.
"""
import base64
import json
import subprocess
import sys

ESCAPES = {"n": b"\n", "r": b"\r", "t": b"\t", "a": b"\a", "b": b"\b", "\\": b"\\", '"': b'"'}


def unquote(text):
    """The bytes of a string redis-cli printed with sdscatrepr's escapes (\\xHH, \\n, ...)."""
    out, i = bytearray(), 0
    while i < len(text):
        if text[i] == "\\" and text[i + 1] == "x":
            out += bytes([int(text[i + 2:i + 4], 16)])
            i += 4
        elif text[i] == "\\":
            out += ESCAPES[text[i + 1]]
            i += 2
        else:
            out += text[i].encode()
            i += 1
    return bytes(out)


def read_reply(line):
    """One line of redis-cli's output as the REDIS task gives the reply.

    Not read with json.loads: redis-cli 7.0's --quoted-json escapes the backslashes of sdscatrepr's
    form but not a quote (a value holding " is written \\"), and writes an error as error:"TEXT".
    In that output a string ends at a quote after a multiple of four backslashes (none, or one
    escaped backslash of the value after another)."""
    value, end = read_value(line, 0)
    if end != len(line):
        sys.exit(f"cannot read redis-cli's line {line!r} past column {end}")
    return value


def read_value(line, i):
    if line.startswith("error:", i):
        text, i = read_string(line, i + 6)
        return {"error": text.decode()}, i
    if line[i] == '"':
        raw, i = read_string(line, i)
        try:
            return raw.decode("utf-8"), i
        except UnicodeDecodeError:
            return {"base64": base64.b64encode(raw).decode()}, i
    if line[i] == "[":
        items, i = [], i + 1
        while line[i] != "]":
            item, i = read_value(line, i)
            items.append(item)
            i += 1 if line[i] == "," else 0
        return items, i + 1
    end = i
    while end < len(line) and line[end] not in ",]":
        end += 1
    return json.loads(line[i:end]), end


def read_string(line, start):
    """The bytes of the quoted string at line[start], and the index after it."""
    i = start + 1
    while not (line[i] == '"' and backslashes_before(line, i) % 4 == 0):
        i += 1
    return unquote(line[start + 1:i].replace("\\\\", "\\")), i + 1


def backslashes_before(line, i):
    count = 0
    while line[i - 1 - count] == "\\":
        count += 1
    return count


def main():
    lines = sys.stdin.read()
    result = subprocess.run(["redis-cli", "-p", sys.argv[1], "-2", "--quoted-json"], input=lines.encode(),
                            capture_output=True, check=True)
    if result.stderr:
        sys.exit("redis-cli: " + result.stderr.decode())
    # A line redis-cli cannot split into words is not sent: it says so in place of a reply.
    print(json.dumps([{"error": line} if line == "Invalid argument(s)" else read_reply(line)
                      for line in result.stdout.decode().splitlines()]))


if __name__ == "__main__":
    main()
