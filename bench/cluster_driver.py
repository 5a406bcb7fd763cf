#!/usr/bin/env python3
"""Drives a flowspool cluster (flowspool-cluster(7)) for bench/cluster, through Redis as
`flowspool --cluster submit` does (the record reserved with HSETNX, then the record, the index and
the queue entry in one MULTI), without a process per job:

  cluster_driver.py chain PORT URL N LABEL   N jobs one after another, each submitted when the
                                             previous one's record was final: ms from submit to end
  cluster_driver.py burst PORT URL N LABEL   N jobs submitted at once: executions per second until
                                             the last record was final

CPU is that of the flowspoolds named in FLOWSPOOL_BENCH_SUPERVISOR and their runners, as
spool_driver.py measures it. Prints one line per figure.
"""
import json
import os
import sys
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spool_driver import CPUMeter  # noqa: E402

FINAL = {b"success", b"error", b"fault", b"cancelled"}


def submit(client, url, number):
    execution_id = f"bench-{os.getpid()}-{number}-{time.monotonic_ns() % 1000000}"
    job = json.dumps({"task": "REST", "inputs": {"url": url}}, separators=(",", ":"))
    record = f"flowspool:execution:{execution_id}"
    if not client.hsetnx(record, "job", job):
        raise SystemExit(f"id {execution_id} taken")
    now = time.time()
    pipe = client.pipeline(transaction=True)
    pipe.hset(record, mapping={"task": "REST", "status": "queued", "submitted": str(now), "retry_on_host_loss": "0"})
    pipe.zadd("flowspool:executions", {execution_id: now})
    pipe.xadd("flowspool:queue", {"id": execution_id, "job": job})
    pipe.execute()
    return execution_id


def wait_final(client, ids, pause):
    pending = list(ids)
    while pending:
        pipe = client.pipeline(transaction=False)
        for execution_id in pending:
            pipe.hget(f"flowspool:execution:{execution_id}", "status")
        statuses = pipe.execute()
        failed = [i for i, s in zip(pending, statuses) if s in FINAL and s != b"success"]
        if failed:
            raise SystemExit(f"{len(failed)} executions did not succeed, e.g. {failed[0]}")
        pending = [i for i, s in zip(pending, statuses) if s not in FINAL]
        if pending:
            time.sleep(pause)


def chain(client, url, count, label):
    meter = CPUMeter()
    start = time.monotonic()
    for number in range(count):
        wait_final(client, [submit(client, url, number)], 0.0002)
    elapsed = time.monotonic() - start
    print(f"{label}: {count} executions one after another through the cluster: {elapsed * 1000 / count:.2f} ms per execution, submit to final record{meter.describe(count)}", flush=True)


def burst(client, url, count, label):
    meter = CPUMeter()
    start = time.monotonic()
    ids = [submit(client, url, number) for number in range(count)]
    wait_final(client, ids, 0.01)
    elapsed = time.monotonic() - start
    print(f"{label}: {count} executions submitted at once through the cluster: {count / elapsed:.0f} executions per second{meter.describe(count)}", flush=True)


def main():
    mode, port, url, count, label = sys.argv[1:6]
    client = redis.Redis(host="127.0.0.1", port=int(port))
    {"chain": chain, "burst": burst}[mode](client, url, int(count), label)


if __name__ == "__main__":
    main()
