#!/usr/bin/env python3
"""The chain and the burst of bench/peers through Celery, as it comes: a worker with 8 prefork
processes on a Redis broker and result backend, each task an HTTP GET of URL with urllib.

  celery_driver.py REDIS_PORT REDIS_PID URL CHAIN_COUNT BURST_COUNT LABEL WORK_DIR

CPU per task is the worker's (its main process and its pool, live or reaped) plus redis-server's,
from the kernel's accounting.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spool_driver import children, process_cpu_ticks  # noqa: E402

port, redis_pid, url, chain_count, burst_count, label, work = sys.argv[1:8]
chain_count, burst_count = int(chain_count), int(burst_count)
module_dir = os.path.join(work, f"celery-{label}")
os.makedirs(module_dir, exist_ok=True)
with open(os.path.join(module_dir, "benchtasks.py"), "w") as file:
    file.write(f"""
import urllib.request
from celery import Celery

app = Celery("benchtasks", broker="redis://127.0.0.1:{port}/0", backend="redis://127.0.0.1:{port}/1")

@app.task
def get(url):
    with urllib.request.urlopen(url) as response:
        return response.status
""")
sys.path.insert(0, module_dir)
import benchtasks  # noqa: E402

worker = subprocess.Popen(
    [sys.executable, "-m", "celery", "-A", "benchtasks", "worker", "--concurrency", "8", "--pool", "prefork",
     "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
    cwd=module_dir, stdout=subprocess.DEVNULL, stderr=open(os.path.join(module_dir, "worker.log"), "w"))


def cpu_ms():
    pids = [worker.pid] + children(worker.pid) + [int(redis_pid)]
    return sum(process_cpu_ticks(pid) for pid in pids) * 1000 / os.sysconf("SC_CLK_TCK")


try:
    for _ in range(20):  # the worker is up and warm
        benchtasks.get.delay(url).get(timeout=60)
    before = cpu_ms()
    start = time.perf_counter()
    for _ in range(chain_count):
        assert benchtasks.get.delay(url).get(timeout=60) == 200
    elapsed = time.perf_counter() - start
    cpu = (cpu_ms() - before) / chain_count
    print(f"celery-{label}-chain: {chain_count} tasks one after another: {elapsed * 1000 / chain_count:.2f} ms per execution; "
          f"CPU {cpu:.2f} ms per execution (worker processes and redis-server)")
    before = cpu_ms()
    start = time.perf_counter()
    results = [benchtasks.get.delay(url) for _ in range(burst_count)]
    assert all(result.get(timeout=300) == 200 for result in results)
    elapsed = time.perf_counter() - start
    cpu = (cpu_ms() - before) / burst_count
    print(f"celery-{label}-burst: {burst_count} tasks sent at once: {burst_count / elapsed:.0f} executions per second "
          f"({elapsed:.2f} s in all); CPU {cpu:.2f} ms per execution (worker processes and redis-server)")
finally:
    worker.terminate()
    try:
        worker.wait(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
