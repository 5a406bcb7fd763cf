#!/usr/bin/env python3
"""Calls one operation with boto3, the reference client, and prints its result as JSON.

  boto3_call.py CLIENT OPERATION PARAMETERS_JSON [paginate]

Against FLOWSPOOL_TEST_AWS_ENDPOINT with the test IAM user's key. Times are printed as ISO 8601
strings and bytes as {"base64": ...}, as the AWS task gives them; an error prints {"Error": {"Code", "Message"}}.
With "paginate", every page through boto3's paginator, as build_full_result() joins them.
"""
import base64
import datetime
import json
import os
import sys

import boto3
import botocore.exceptions


def plain(value):
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray)):
        return {"base64": base64.b64encode(value).decode()}
    if hasattr(value, "read"):
        return {"base64": base64.b64encode(value.read()).decode()}
    return value


def main():
    client_name, operation, parameters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    client = boto3.client(client_name, endpoint_url=os.environ["FLOWSPOOL_TEST_AWS_ENDPOINT"], region_name="us-east-1",
                          aws_access_key_id=os.environ["FLOWSPOOL_TEST_AWS_KEY_ID"],
                          aws_secret_access_key=os.environ["FLOWSPOOL_TEST_AWS_SECRET"])
    try:
        if sys.argv[4:] == ["paginate"]:
            result = client.get_paginator(operation).paginate(**parameters).build_full_result()
        else:
            result = getattr(client, operation)(**parameters)
    except botocore.exceptions.ClientError as error:
        result = {"Error": error.response["Error"]}
    print(json.dumps(plain(result)))


if __name__ == "__main__":
    main()
