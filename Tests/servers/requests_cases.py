#!/usr/bin/env python3
"""The reference side of the REST differential suite (Tests/RESTTaskTests/RESTDifferentialTests.swift).

Reads a JSON list of cases from standard input, each {"name": ..., "inputs": {...}} with a REST task's
inputs, makes each request with python requests as a flow author's script would, and prints a JSON
list of results in the shape the suite compares:
  {"status": "success" | "error", "outputs": {status_code, headers, cookies, encoding, json | text}}
when the server answered (status "error" for a status code outside expected_status_code, as the
platform ends the task), or {"status": "error", "error": KIND} when requests raised, KIND being
requests' own message for too many redirects ("Exceeded 30 redirects.") and otherwise one of
"connect timeout", "read timeout", "TLS verification", "connection error".
"""
import base64
import json
import sys

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry


def is_form(headers):
    return any(name.lower() == "content-type" and value.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
               for name, value in headers.items())


def part_content(part):
    if "base64" in part:
        return base64.b64decode(part["base64"])
    # What requests and urllib3 make of a value that is not bytes: str() of it, in UTF-8.
    return str(part["value"]).encode()


def files_of(multipart):
    """The `multipart` input as requests' files=: (name, (filename, content, content_type)) in order."""
    items = multipart.items() if isinstance(multipart, dict) else [(part["name"], part) for part in multipart]
    files = []
    for name, part in items:
        if not isinstance(part, dict):
            part = {"value": str(part)}
        files.append((name, (part.get("filename"), part_content(part), part.get("content_type"))))
    return files


def request_arguments(inputs):
    headers = {name: value if isinstance(value, str) else json.dumps(value) for name, value in (inputs.get("headers") or {}).items()}
    arguments = {
        "headers": headers,
        "cookies": inputs.get("cookies"),
        "params": inputs.get("params"),
        "allow_redirects": inputs.get("allow_redirects", True),
        # flowspool's timeout bounds a whole try; requests' read timeout is what comes closest.
        "timeout": (inputs.get("connect_timeout", 30), inputs.get("read_timeout", inputs.get("timeout", 60))),
        "verify": inputs.get("cacert", True),
    }
    data = inputs.get("data")
    if isinstance(data, str) or (data is not None and is_form(headers)):
        arguments["data"] = data
    elif data is not None:
        arguments["json"] = data
    if "json" in inputs:
        arguments["json"] = inputs["json"]
    if "multipart" in inputs:
        arguments["files"] = files_of(inputs["multipart"])
    return arguments


def session_for(inputs):
    session = requests.Session()
    session.max_redirects = inputs.get("max_redirects", 30)
    backoff = inputs.get("retry_backoff")
    if backoff is not None:
        # What retry_backoff asks for: retries of connection failures, dropped connections and 5xx and 429 answers.
        retry = Retry(total=20, connect=20, read=20, status=20, backoff_factor=backoff.get("initial", 1),
                      backoff_max=backoff.get("maximum", 60), status_forcelist=[429] + list(range(500, 600)),
                      allowed_methods=None, respect_retry_after_header=True, raise_on_status=False)
        adapter = HTTPAdapter(max_retries=retry)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    return session


def outputs_of(response):
    outputs = {
        "status_code": response.status_code,
        "headers": dict(response.headers),
        "cookies": response.cookies.get_dict(),
        "encoding": response.encoding,
    }
    try:
        outputs["json"] = response.json()
    except ValueError:
        outputs["text"] = response.text
    return outputs


def run(inputs):
    expected = inputs.get("expected_status_code", [200, 201, 202, 204])
    expected = expected if isinstance(expected, list) else [expected]
    try:
        with session_for(inputs) as session:
            response = session.request(inputs.get("method", "get").upper(), inputs["url"], **request_arguments(inputs))
    except requests.exceptions.TooManyRedirects as error:
        return {"status": "error", "error": str(error)}
    except requests.exceptions.ConnectTimeout:
        return {"status": "error", "error": "connect timeout"}
    except requests.exceptions.ReadTimeout:
        return {"status": "error", "error": "read timeout"}
    except requests.exceptions.SSLError:
        return {"status": "error", "error": "TLS verification"}
    except requests.exceptions.ConnectionError:
        return {"status": "error", "error": "connection error"}
    except Exception as error:  # any other failure is a result to compare too, not the end of the table
        return {"status": "error", "error": f"{type(error).__name__}: {error}"}
    return {"status": "success" if response.status_code in expected else "error", "outputs": outputs_of(response)}


def main():
    cases = json.load(sys.stdin)
    json.dump([run(case["inputs"]) for case in cases], sys.stdout)


if __name__ == "__main__":
    main()
