#!/usr/bin/env python3
"""Drops jobs into a spool and times them from drop to end, waiting with inotify.

  spool_driver.py chain SPOOL JOB N   N copies of JOB (a JSON job file), each dropped when the previous one ended
  spool_driver.py burst SPOOL JOB N   N copies of JOB dropped at once
  spool_driver.py populate SPOOL ID N  N new ended executions, each a copy of the files of execution ID with
                                      its own id and times: a spool of many executions for `list`
  spool_driver.py floor SPOOL - N     N times, a small file written, fsynced and renamed, and its directory
                                      fsynced, in the spool: the least one durable step costs
  spool_driver.py run SPOOL URL N     N `flowspool run REST url=URL` commands one after another (FLOWSPOOL_BIN
                                      names the programs' directory)
  spool_driver.py lists SPOOL DIR N   `flowspool list` and `status` in a new spool grown to 1,000, 10,000 ... N
                                      executions, copies of execution directory DIR (populate); the first
                                      list from the files, the next from spool/index
  spool_driver.py wake SPOOL JOB N    N copies of JOB one after another, each with a waiter registered in
                                      waiters/: how long after the end (the kernel's inotify event)
                                      flowspoold wakes the waiter through its FIFO

With FLOWSPOOL_BENCH_SUPERVISOR set to flowspoold's pid, chain and burst also print the CPU time per
execution of flowspoold and its runners, from the kernel's accounting (utime and stime of flowspoold
and of its live children, and cutime and cstime of those reaped).
"""
import ctypes
import json
import os
import select
import struct
import sys
import time

IN_MOVED_TO = 0x80
IN_Q_OVERFLOW = 0x4000
IN_NONBLOCK = 0o4000
FINAL = {"success", "error", "fault", "cancelled"}

libc = ctypes.CDLL("libc.so.6", use_errno=True)


class Watcher:
    """inotify on executions/ and on each execution directory that appears in it."""

    def __init__(self, spool):
        self.executions = os.path.join(spool, "executions")
        self.fd = libc.inotify_init1(IN_NONBLOCK)
        self.directories = {}
        self.add(self.executions)

    def add(self, path):
        wd = libc.inotify_add_watch(self.fd, path.encode(), IN_MOVED_TO)
        if wd < 0:
            raise OSError(ctypes.get_errno(), "inotify_add_watch " + path)
        self.directories[wd] = path

    def events(self):
        """Blocks until events come; yields (directory, name), or (None, None) on overflow."""
        select.select([self.fd], [], [])
        data = os.read(self.fd, 1 << 20)
        offset = 0
        while offset < len(data):
            wd, mask, _, length = struct.unpack_from("iIII", data, offset)
            name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode()
            offset += 16 + length
            if mask & IN_Q_OVERFLOW:
                yield None, None
            else:
                yield self.directories.get(wd), name


def process_cpu_ticks(pid):
    """utime + stime + cutime + cstime of one process, in clock ticks; 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as file:
            fields = file.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return sum(int(value) for value in fields[11:15])


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []


class CPUMeter:
    """CPU time of flowspoold and its runners (live or reaped) between two readings, in ms; of
    several flowspoolds when FLOWSPOOL_BENCH_SUPERVISOR names several pids."""

    def __init__(self):
        self.pids = [int(pid) for pid in os.environ.get("FLOWSPOOL_BENCH_SUPERVISOR", "").split()]
        self.start = self.reading()

    def reading(self):
        ticks = sum(process_cpu_ticks(pid) for supervisor in self.pids for pid in [supervisor] + children(supervisor))
        return ticks * 1000 / os.sysconf("SC_CLK_TCK")

    def describe(self, count):
        if not self.pids:
            return ""
        return f"; CPU {(self.reading() - self.start) / count:.2f} ms per execution (flowspoold and its runners)"


def status(spool, execution_id):
    try:
        with open(os.path.join(spool, "executions", execution_id, "status")) as file:
            return file.read().strip()
    except OSError:
        return None


def drop(spool, execution_id, job):
    temporary = os.path.join(spool, "tmp", "bench." + execution_id)
    with open(temporary, "w") as file:
        file.write(job)
    return temporary


def wait_all(spool, watcher, pending):
    """Waits until every id in `pending` has a final status."""
    pending = {i for i in pending if status(spool, i) not in FINAL}
    for execution_id in list(pending):
        path = os.path.join(watcher.executions, execution_id)
        if os.path.isdir(path):
            watcher.add(path)
    pending = {i for i in pending if status(spool, i) not in FINAL}
    while pending:
        for directory, name in watcher.events():
            if directory is None:
                pending = {i for i in pending if status(spool, i) not in FINAL}
                continue
            if directory == watcher.executions:
                if name in pending:
                    watcher.add(os.path.join(directory, name))
                    if status(spool, name) in FINAL:
                        pending.discard(name)
            elif name == "status":
                execution_id = os.path.basename(directory)
                if execution_id in pending and status(spool, execution_id) in FINAL:
                    pending.discard(execution_id)


def check_success(spool, ids):
    failures = [i for i in ids if status(spool, i) != "success"]
    if failures:
        sys.exit(f"{len(failures)} of {len(ids)} executions did not end success, e.g. {failures[0]}")


def chain(spool, job, count, label):
    watcher = Watcher(spool)
    ids = [f"{label}{n:05d}" for n in range(count)]
    cpu = CPUMeter()
    start = time.perf_counter()
    for execution_id in ids:
        temporary = drop(spool, execution_id, job)
        os.rename(temporary, os.path.join(spool, "incoming", execution_id + ".json"))
        wait_all(spool, watcher, {execution_id})
    elapsed = time.perf_counter() - start
    cpu_line = cpu.describe(count)
    check_success(spool, ids)
    task = json.loads(job)["task"]
    print(f"{label}: {count} {task} executions one after another: {elapsed * 1000 / count:.2f} ms per execution (drop to end){cpu_line}")


def burst(spool, job, count, label):
    watcher = Watcher(spool)
    ids = [f"{label}{n:05d}" for n in range(count)]
    temporaries = [drop(spool, execution_id, job) for execution_id in ids]
    cpu = CPUMeter()
    start = time.perf_counter()
    for execution_id, temporary in zip(ids, temporaries):
        os.rename(temporary, os.path.join(spool, "incoming", execution_id + ".json"))
    wait_all(spool, watcher, set(ids))
    elapsed = time.perf_counter() - start
    cpu_line = cpu.describe(count)
    check_success(spool, ids)
    task = json.loads(job)["task"]
    print(f"{label}: {count} {task} job files dropped at once: {count / elapsed:.0f} executions per second ({elapsed:.2f} s in all){cpu_line}")


def wake(spool, job, count, label):
    latencies = []
    waiters = os.path.join(spool, "waiters")
    for n in range(count):
        execution_id = f"{label}{n:05d}"
        token = f"bench.{os.getpid()}.{n}"
        fifo_path = os.path.join(waiters, token)
        os.mkfifo(fifo_path, 0o600)
        fifo = os.open(fifo_path, os.O_RDWR | os.O_NONBLOCK)
        with open(os.path.join(waiters, "." + token), "w") as file:
            file.write(execution_id + "\n")
        os.rename(os.path.join(waiters, "." + token), fifo_path + ".ids")
        watcher = Watcher(spool)
        temporary = drop(spool, execution_id, job)
        os.rename(temporary, os.path.join(spool, "incoming", execution_id + ".json"))
        ended_at = woken_at = None
        while ended_at is None or woken_at is None:
            ready, _, _ = select.select([watcher.fd, fifo], [], [], 60)
            now = time.perf_counter()
            if not ready:
                sys.exit(f"{execution_id} did not end, or its waiter was not woken, within 60 s")
            if watcher.fd in ready:
                for directory, name in watcher.events():
                    if directory == watcher.executions and name == execution_id:
                        watcher.add(os.path.join(directory, name))
                    elif name == "status" and status(spool, execution_id) in FINAL and ended_at is None:
                        ended_at = now
            if fifo in ready:
                os.read(fifo, 4096)
                if status(spool, execution_id) in FINAL and woken_at is None:
                    woken_at = now
        latencies.append(max(0.0, woken_at - ended_at))
        os.close(fifo)
        os.close(watcher.fd)
        for path in (fifo_path, fifo_path + ".ids"):
            os.unlink(path)
    check_success(spool, [f"{label}{n:05d}" for n in range(count)])
    latencies.sort()
    median, worst = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    task = json.loads(job)["task"]
    print(f"{label}: {count} {task} executions, each with a waiter: woken {median * 1000:.3f} ms after the end (median), "
          f"{worst * 1000:.3f} ms (99th percentile), through its FIFO")


def populate(spool, template, count, label):
    """Copies the files of one ended execution into `count` new execution directories, with ids
    LABEL0000000... and submission times a millisecond apart, as flowspoold would have left them."""
    source = os.path.join(spool, "executions", template)
    files = {}
    for name in os.listdir(source):
        with open(os.path.join(source, name), "rb") as file:
            files[name] = file.read()
    history = files.pop("history").decode().splitlines()
    start = time.time() - count / 1000
    executions = os.path.join(spool, "executions")
    for n in range(count):
        directory = os.path.join(executions, f"{label}{n:07d}")
        os.mkdir(directory, 0o700)
        for name, content in files.items():
            with open(os.path.join(directory, name), "wb") as file:
                file.write(content)
        stamp = start + n / 1000
        lines = []
        for offset, line in enumerate(history):
            moment = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp + offset * 0.002)) + ".%03dZ" % ((stamp + offset * 0.002) % 1 * 1000)
            lines.append(moment + " " + line.split(" ", 1)[1])
        with open(os.path.join(directory, "history"), "w") as file:
            file.write("\n".join(lines) + "\n")


def floor(spool, _, count, label):
    directory = os.path.join(spool, "tmp")
    timings = []
    for n in range(count):
        start = time.perf_counter()
        temporary = os.path.join(directory, f"floor.{os.getpid()}.{n}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.write(fd, b"success\n")
        os.fsync(fd)
        os.close(fd)
        os.rename(temporary, os.path.join(directory, f"floor.{os.getpid()}"))
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        os.fsync(fd)
        os.close(fd)
        timings.append(time.perf_counter() - start)
    os.unlink(os.path.join(directory, f"floor.{os.getpid()}"))
    timings.sort()
    pair = timings[len(timings) // 2] * 1000
    print(f"{label}: one small file written and fsynced, renamed, and its directory fsynced, on the spool's file system: "
          f"{pair:.2f} ms (median of {count}); an execution has three durable points (admitted, begun, ended), "
          f"so its floor is {3 * pair:.2f} ms")


def run_commands(spool, url, count, label):
    import resource
    import subprocess
    program = os.path.join(os.environ["FLOWSPOOL_BIN"], "flowspool")
    cpu = CPUMeter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    for _ in range(count):
        subprocess.run([program, "run", "--spool", spool, "--quiet", "REST", f"url={url}"], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000 / count
    print(f"{label}: {count} `flowspool run REST` commands one after another: {elapsed * 1000 / count:.2f} ms per execution "
          f"(command start to its exit){cpu.describe(count)}; the command itself {own:.2f} ms of CPU")


def lists(spool, template_directory, largest, label):
    """In a new spool SPOOL (only the directories list needs), grown from a copy of one ended
    execution's directory."""
    import shutil
    import subprocess
    program = os.path.join(os.environ["FLOWSPOOL_BIN"], "flowspool")
    for directory in ("", "executions", "incoming", "tmp"):
        os.makedirs(os.path.join(spool, directory), mode=0o700, exist_ok=True)
    template = os.path.basename(template_directory.rstrip("/"))
    if not os.path.exists(os.path.join(spool, "executions", template)):
        shutil.copytree(template_directory, os.path.join(spool, "executions", template))

    def timed(*arguments):
        start = time.perf_counter()
        subprocess.run([program, *arguments, "--spool", spool], check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - start

    present = len(os.listdir(os.path.join(spool, "executions")))
    size = 1000
    while size <= largest:
        if size > present:
            populate(spool, template, size - present, f"{label}{size}-")
            present = size
        first = timed("list")
        again = min(timed("list") for _ in range(3))
        status = min(timed("status", template) for _ in range(10))
        print(f"{label}: {size:,} executions: flowspool list {first:.2f} s the first time (from the files), "
              f"{again:.3f} s again (from spool/index); flowspool status {status * 1000:.1f} ms")
        size *= 10


if __name__ == "__main__":
    mode, spool, job_file, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    label = sys.argv[5] if len(sys.argv) > 5 else mode
    if mode in ("populate", "floor", "lists", "run"):
        {"populate": populate, "floor": floor, "lists": lists, "run": run_commands}[mode](spool, job_file, count, label)
        sys.exit(0)
    with open(job_file) as file:
        job = file.read()
    {"chain": chain, "burst": burst, "wake": wake}[mode](spool, job, count, label)
