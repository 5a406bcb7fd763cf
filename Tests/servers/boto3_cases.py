#!/usr/bin/env python3
"""Runs the AWS differential table with boto3, the reference client, and prints every outcome as JSON.

  boto3_cases.py CASES_JSON SIDE_TOKEN RUN_TOKEN

Against FLOWSPOOL_TEST_AWS_ENDPOINT with the test IAM user's key, as boto3_call.py calls one
operation: times are printed with isoformat(), bytes as {"base64": ...}; a service's error as
{"Error": {...}} with the exception's message text, and botocore's own errors (parameter
validation, no region, a waiter's failure) as their message text.

The table (Tests/AWSTaskTests/differential-cases.json) holds "setup", calls made here first on
resources both sides read (named with ${run}), then "groups" of cases run in order. In parameters,
"${side}" is this side's own token (SIDE_TOKEN), "${run}" the run's, "${NAME}" a value a case before
saved with "save": {"NAME": "a JMESPath of its result"}, and "${NAME#PREFIX}" that value without
PREFIX; a string that is only "${NAME}" takes the saved value whatever its type. Each group keeps
its own saved values. A group with "models": "debian" is called through Debian's botocore 1.29
models (FLOWSPOOL_TEST_DEBIAN_MODELS), as the flowspool side pins them; "endpoint": "open", of a
group, a case or a setup call, calls the moto without IAM checks (FLOWSPOOL_TEST_AWS_OPEN_ENDPOINT),
for the calls whose signatures moto checks wrongly, boto3's too; "endpoint": "http-s3" the test
HTTP server's S3 answers (FLOWSPOOL_TEST_HTTP_URL/s3-checksum), for what moto never answers. "setup done" is written to
standard error once the setup calls are made; the outcomes are printed at the end as one JSON document:

  {"cases": {CASE_NAME: {"status": "success", "result": ...} or {"status": "error", "message": ...}},
   "variables": {GROUP_NAME: {NAME: VALUE}}}

A waiter's case gives boto3's waiter.wait() result, which is None.
"""
import base64
import json
import os
import re
import sys

import boto3
import botocore.exceptions
import botocore.session
import jmespath

from boto3_call import plain  # results as the AWS task gives them: times isoformat(), bytes {"base64": ...}

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:#([^}]*))?\}")


def substitute(value, variables):
    """The case's parameters with ${NAME} replaced, and {"base64": ...} as the bytes it stands for."""
    if isinstance(value, dict):
        if list(value) == ["base64"]:
            return base64.b64decode(value["base64"])
        return {substitute(key, variables): substitute(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, variables) for item in value]
    if isinstance(value, str):
        whole = VARIABLE.fullmatch(value)
        if whole and whole.group(2) is None:
            return substitute(variables[whole.group(1)], {})
        return VARIABLE.sub(lambda match: variable(match, variables), value)
    return value


def variable(match, variables):
    """${NAME} as text, or ${NAME#PREFIX}: the value without PREFIX."""
    text = str(variables[match.group(1)])
    prefix = match.group(2) or ""
    return text[len(prefix):] if text.startswith(prefix) else text


class Clients:
    """One client per service, region and models, made once."""

    def __init__(self):
        self.made = {}
        self.sessions = {}

    def session(self, models):
        if models not in self.sessions:
            core = botocore.session.get_session()
            if models == "debian":
                core.set_config_variable("data_path", os.environ["FLOWSPOOL_TEST_DEBIAN_MODELS"])
            self.sessions[models] = boto3.Session(botocore_session=core)
        return self.sessions[models]

    def client(self, name, region, models, endpoint):
        key = (name, region, models, endpoint)
        if key not in self.made:
            self.made[key] = self.session(models).client(
                name, endpoint_url=endpoint_url(endpoint), region_name=region,
                aws_access_key_id=os.environ["FLOWSPOOL_TEST_AWS_KEY_ID"],
                aws_secret_access_key=os.environ["FLOWSPOOL_TEST_AWS_SECRET"])
        return self.made[key]


def endpoint_url(endpoint):
    """Where a case's calls go: moto, moto without IAM checks, or the test HTTP server's S3 answers."""
    if endpoint == "open":
        return os.environ["FLOWSPOOL_TEST_AWS_OPEN_ENDPOINT"]
    if endpoint == "http-s3":
        return os.environ["FLOWSPOOL_TEST_HTTP_URL"] + "/s3-checksum"
    return os.environ["FLOWSPOOL_TEST_AWS_ENDPOINT"]


def call(clients, case, parameters, group):
    region = case["region"] if "region" in case else "us-east-1"
    client = clients.client(case["client"], region, group.get("models"), case.get("endpoint", group.get("endpoint")))
    if "waiter" in case:
        waiter_config = case.get("waiter_config")
        extra = {"WaiterConfig": waiter_config} if waiter_config is not None else {}
        return client.get_waiter(case["waiter"]).wait(**parameters, **extra)
    if case.get("paginate"):
        return client.get_paginator(case["operation"]).paginate(**parameters).build_full_result()
    return getattr(client, case["operation"])(**parameters)


def outcome(clients, case, variables, group):
    try:
        # A body is read (and its checksum checked) in plain(), so that is part of the call.
        result = plain(call(clients, case, substitute(case.get("parameters", {}), variables), group))
    except botocore.exceptions.ClientError as error:
        return {"status": "error", "message": str(error), "Error": plain(error.response.get("Error", {}))}
    except botocore.exceptions.BotoCoreError as error:
        return {"status": "error", "message": str(error)}
    return {"status": "success", "result": result}


def main():
    table = json.load(open(sys.argv[1]))
    side, run = sys.argv[2], sys.argv[3]
    clients = Clients()
    for step in table.get("setup", []):
        done = outcome(clients, step, {"run": run}, {"endpoint": step.get("endpoint")})
        if done["status"] != "success":
            sys.exit(f"the setup call {step['client']}.{step['operation']} failed: {done['message']}")
    print("setup done", file=sys.stderr, flush=True)
    outcomes, saved = {}, {}
    for group in table["groups"]:
        variables = {"side": side, "run": run}
        for case in group["cases"]:
            done = outcome(clients, case, variables, group)
            outcomes[case["name"]] = done
            for name, path in case.get("save", {}).items():
                if done["status"] == "success":
                    variables[name] = jmespath.search(path, done["result"])
        saved[group["name"]] = {name: value for name, value in variables.items() if name not in ("side", "run")}
    print(json.dumps({"cases": outcomes, "variables": saved}))


if __name__ == "__main__":
    main()
