#!/usr/bin/env python3
"""A crash storm: mixed jobs while flowspoold and its runners are killed with SIGKILL.

  storm.py --bin DIR --url HTTP_BASE [--redis-port P] [--smtp-port P --mail-dir DIR]
           [--aws-endpoint URL --aws-key ID --aws-secret SECRET] [--jobs N] [--supervisor-kills K] [--runner-kills M]
           [--fresh-runner-kills F]

N jobs (REST calls counted by the test server's /count/KEY, INPUT requests answered by a respond
loop, FLOW scripts with two REST children each, and with their servers given, REDIS INCRs of a key
each, SMTP messages to an address each and AWS SQS messages naming their job, counted on the servers) are dropped into
a fresh spool while flowspoold is
killed K times at random moments (and started again) and M random runners are killed. F more
kills are aimed at fresh runners: runners handed an execution they have not begun, its lock file
still empty (flowspool-spool(5), the runner contract), which did no work and whose execution may
run again. Then it waits for every execution to end and prints what went wrong: jobs lost, tasks
run twice, executions stuck, files half-written, processes left behind. Exits 1 on any of them.
"""
import argparse
import json
import os
import random
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

FINAL = {"success", "error", "fault", "cancelled"}
STATUSES = FINAL | {"queued", "running", "waiting"}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the directory of the flowspool programs")
    parser.add_argument("--url", required=True, help="the test HTTP server, with /count/KEY")
    parser.add_argument("--redis-port", help="a redis-server on 127.0.0.1, for REDIS jobs")
    parser.add_argument("--smtp-port", help="an SMTP server on 127.0.0.1 that records messages in --mail-dir, for SMTP jobs")
    parser.add_argument("--mail-dir")
    parser.add_argument("--aws-endpoint", help="moto's server, for AWS jobs (SQS send_message), with --aws-key and --aws-secret")
    parser.add_argument("--aws-key")
    parser.add_argument("--aws-secret")
    parser.add_argument("--jobs", type=int, default=2000)
    parser.add_argument("--supervisor-kills", type=int, default=25)
    parser.add_argument("--runner-kills", type=int, default=100)
    parser.add_argument("--fresh-runner-kills", type=int, default=0,
                        help="kills aimed at runners that have not begun their execution (its lock file empty)")
    parser.add_argument("--settle", type=float, default=180, help="seconds to wait for every execution to end")
    return parser.parse_args()


class Storm:
    def __init__(self, options):
        self.options = options
        self.work = tempfile.mkdtemp(prefix="flowspool-storm-")
        self.spool = os.path.join(self.work, "spool")
        self.supervisor = None
        self.log = open(os.path.join(self.work, "flowspoold.log"), "ab")
        self.stop = threading.Event()
        self.runner_kills = 0
        # Kills sent to a runner whose execution's lock file was empty, and the executions of those
        # that landed before the runner began (it died without writing its pid there).
        self.fresh_kills = 0
        self.fresh_landed = []
        self.token = "%08x" % random.getrandbits(32)
        self.kinds = ["REST", "INPUT", "FLOW"] + (["REDIS"] if options.redis_port else []) + (["SMTP"] if options.smtp_port else []) \
            + (["AWS"] if options.aws_endpoint else [])
        self.queue_url = None

    def program(self, name):
        return os.path.join(self.options.bin, name)

    def start_supervisor(self):
        self.supervisor = subprocess.Popen(
            [self.program("flowspoold"), "--spool", self.spool, "--runner-path", self.options.bin, "--rescan-interval", "2"],
            stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.close(os.open(os.path.join(self.spool, "control"), os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:
                time.sleep(0.01)
        raise SystemExit("storm: flowspoold did not start")

    def kill_supervisor(self):
        self.supervisor.send_signal(signal.SIGKILL)
        self.supervisor.wait()

    def drop(self, name, job):
        temporary = os.path.join(self.spool, "tmp", "storm." + name)
        with open(temporary, "w") as file:
            json.dump(job, file)
        os.rename(temporary, os.path.join(self.spool, "incoming", name + ".json"))

    def submit_all(self):
        flow = os.path.join(self.work, "flow.py")
        with open(flow, "w") as file:
            file.write(
                "def handler(c):\n"
                "    me = c.getInputs()['me']\n"
                "    for n in range(2):\n"
                f"        c.task('REST', url='{self.options.url}/count/' + me + '-' + str(n)).run()\n"
                "    c.end('success', message='children done')\n")
        ids = []
        for n in range(self.options.jobs):
            name = f"s{n:05d}"
            kind = self.kinds[n % len(self.kinds)]
            if kind == "REST":
                job = {"task": "REST", "inputs": {"url": f"{self.options.url}/count/{name}"}}
            elif kind == "INPUT":
                job = {"task": "INPUT", "inputs": {"request": f"storm {name}"}}
            elif kind == "REDIS":
                job = {"task": "REDIS", "inputs": {"host": "127.0.0.1", "port": int(self.options.redis_port),
                                                   "command": "INCR", "args": [self.key(name)]}}
            elif kind == "AWS":
                job = {"task": "AWS", "inputs": {"client": "sqs", "service": "send_message", "region": "us-east-1",
                                                 "endpoint_url": self.options.aws_endpoint, "aws_access_key_id": self.options.aws_key,
                                                 "aws_secret_access_key": self.options.aws_secret,
                                                 "parameters": {"QueueUrl": self.aws_queue(), "MessageBody": name}}}
            elif kind == "SMTP":
                job = {"task": "SMTP", "inputs": {"from": "storm@example.com", "to": self.key(name) + "@example.com",
                                                  "subject": "storm", "body": name, "smtp_host": "127.0.0.1",
                                                  "smtp_port": int(self.options.smtp_port)}}
            else:
                job = {"task": "FLOW", "inputs": {"script": flow, "inputs": {"me": name}}}
            self.drop(name, job)
            ids.append(name)
        return ids

    def key(self, name):
        """A Redis key or mail address of this storm's own: runs at the same time share the servers."""
        return f"storm-{self.token}-{name}"

    def aws_client(self):
        import boto3
        return boto3.client("sqs", endpoint_url=self.options.aws_endpoint, region_name="us-east-1",
                            aws_access_key_id=self.options.aws_key, aws_secret_access_key=self.options.aws_secret)

    def aws_queue(self):
        """A queue of this storm's own, where each AWS job sends one message naming itself."""
        if self.queue_url is None:
            self.queue_url = self.aws_client().create_queue(QueueName="storm-" + self.token)["QueueUrl"]
        return self.queue_url

    def counted_elsewhere(self, ids):
        """How many times each REDIS, SMTP and AWS job did its work, as the servers saw it."""
        counts = {}
        if self.queue_url:
            client = self.aws_client()
            while True:
                messages = client.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
                if not messages:
                    break
                for message in messages:
                    key = "aws " + message["Body"]
                    counts[key] = counts.get(key, 0) + 1
                    client.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        redis_ids = [i for n, i in enumerate(ids) if self.kinds[n % len(self.kinds)] == "REDIS"]
        if redis_ids:
            values = subprocess.run(["redis-cli", "-p", self.options.redis_port, "MGET"] + [self.key(i) for i in redis_ids],
                                    capture_output=True, text=True, check=True).stdout.split("\n")
            counts.update({"redis " + i: int(v) for i, v in zip(redis_ids, values) if v.strip().isdigit()})
        if self.options.smtp_port:
            for name in os.listdir(self.options.mail_dir):
                if not name.endswith(".json"):
                    continue
                with open(os.path.join(self.options.mail_dir, name)) as file:
                    for address in json.load(file)["rcpt_tos"]:
                        if address.startswith(f"storm-{self.token}-"):
                            key = "smtp " + address
                            counts[key] = counts.get(key, 0) + 1
        return counts

    def respond_loop(self):
        """Answers each published request once, as a person would, whatever the supervisor's state."""
        answered = set()
        requests = os.path.join(self.spool, "requests")
        while not self.stop.is_set():
            for name in os.listdir(requests) if os.path.isdir(requests) else []:
                request = name[:-5]
                if name.endswith(".json") and not name.startswith(".") and request not in answered:
                    answered.add(request)
                    subprocess.run([self.program("respond"), "--spool", self.spool, "--wait", "0", request, "yes"],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.05)

    def runners(self):
        """The pids of this spool's runner processes, found by their environment."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as file:
                    variables = file.read().split(b"\0")
                with open(f"/proc/{entry}/comm") as file:
                    command = file.read()
            except OSError:
                continue
            if f"FLOWSPOOL_SPOOL={self.spool}".encode() in variables and command.startswith("flowspool-task"):
                pids.append(int(entry))
        return pids

    def storm(self):
        kills = self.options.supervisor_kills
        per_kill = -(-self.options.runner_kills // max(1, kills))  # rounded up; none when none is asked
        for _ in range(kills):
            time.sleep(random.uniform(0.05, 0.6))
            live = self.runners()
            for pid in random.sample(live, k=min(per_kill, len(live))):
                try:
                    os.kill(pid, signal.SIGKILL)
                    self.runner_kills += 1
                except ProcessLookupError:
                    pass
            self.kill_supervisor()
            time.sleep(random.uniform(0, 0.1))
            self.start_supervisor()

    def hunt_fresh_runners(self, ids):
        """Kills --fresh-runner-kills runners, each caught between its hand-over and its first act,
        a random pause apart, until the storm is over."""
        candidates = list(ids)
        while not self.stop.is_set() and self.fresh_kills < self.options.fresh_runner_kills and candidates:
            found = self.fresh_runner(candidates)
            if found is None:
                time.sleep(0.002)
                continue
            landed = self.kill_fresh(*found)
            if landed is None:
                continue
            # Never aimed at again: until flowspoold has reaped its runner, it looks fresh still.
            candidates.remove(found[0])
            self.fresh_kills += 1
            if landed:
                self.fresh_landed.append(found[0])
            self.stop.wait(random.uniform(0, 0.3))

    def fresh_runner(self, candidates):
        """(execution id, runner pid) of an execution of `candidates` running with an empty lock file,
        or None. The queue is first come, first served, so only the first few are looked at; those
        that have begun, are waiting or have ended are dropped from `candidates` for good."""
        for execution_id in candidates[:16]:
            status = (self.state(execution_id) or "").strip()
            if status in ("", "queued"):
                continue
            lock = self.lock_content(execution_id)
            if status != "running" or lock:
                candidates.remove(execution_id)
            elif lock == "" and (pid := self.handed_to(execution_id)):
                return execution_id, pid
        return None

    def lock_content(self, execution_id):
        try:
            with open(os.path.join(self.spool, "executions", execution_id, "lock")) as file:
                return file.read()
        except OSError:
            return None

    def handed_to(self, execution_id):
        """The runner process flowspoold handed the execution to, by the history's last line,
        "TIME running pid=P use=N" (None while that line is not written yet)."""
        try:
            with open(os.path.join(self.spool, "executions", execution_id, "history")) as file:
                words = file.read().splitlines()[-1].split()
        except (OSError, IndexError):
            return None
        if len(words) > 2 and words[1] == "running" and words[2].startswith("pid=") and words[2][4:].isdigit():
            return int(words[2][4:])
        return None

    def kill_fresh(self, execution_id, pid):
        """SIGKILL to the runner `pid` if the execution's lock file is still empty: None when it is
        not (or the runner is gone), else whether the kill landed before the runner began, that is
        whether it died without writing its pid into the lock file. Sent through a pidfd, so that a
        pid used again is never hit."""
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            return None
        try:
            if not self.is_live_runner(pid) or self.lock_content(execution_id) != "":
                return None
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], 10)  # readable once it has died
            return (self.lock_content(execution_id) or "").strip() != str(pid)
        except OSError:
            return None
        finally:
            os.close(pidfd)

    @staticmethod
    def is_live_runner(pid):
        """Whether `pid` is a runner process that has not died: a dead one flowspoold has not reaped
        yet (a zombie) still has its name."""
        with open(f"/proc/{pid}/stat") as file:
            command, rest = file.read().rsplit(")", 1)
        return command.split("(", 1)[1].startswith("flowspool-task") and rest.split()[0] != "Z"

    def state(self, execution_id):
        directory = os.path.join(self.spool, "executions", execution_id)
        try:
            with open(os.path.join(directory, "status")) as file:
                return file.read()
        except OSError:
            return None

    def settle(self, ids):
        deadline = time.monotonic() + self.options.settle
        while time.monotonic() < deadline:
            pending = [i for i in ids if self.state(i) is None or self.state(i).strip() not in FINAL]
            pending = [i for i in pending if not os.path.exists(os.path.join(self.spool, "failed", i + ".json"))]
            if not pending:
                return
            time.sleep(0.2)

    def half_written(self, execution_id):
        directory = os.path.join(self.spool, "executions", execution_id)
        problems = []
        status = self.state(execution_id)
        if status is None or not status.endswith("\n") or status.strip() not in STATUSES:
            problems.append("status")
        for name in ("inputs.json", "outputs.json"):
            path = os.path.join(directory, name)
            if os.path.exists(path):
                try:
                    with open(path) as file:
                        json.load(file)
                except ValueError:
                    problems.append(name)
        try:
            with open(os.path.join(directory, "history")) as file:
                for line in file:
                    if not line.endswith("\n") or line.split(" ")[1].strip() not in STATUSES:
                        problems.append("history")
                        break
        except (OSError, IndexError):
            problems.append("history")
        return problems

    def run(self):
        self.start_supervisor()
        started = time.monotonic()
        ids = self.submit_all()
        answering = threading.Thread(target=self.respond_loop, daemon=True)
        answering.start()
        hunting = threading.Thread(target=self.hunt_fresh_runners, args=(ids,), daemon=True)
        hunting.start()
        self.storm()
        self.settle(ids)
        seconds = time.monotonic() - started
        self.stop.set()
        answering.join()
        hunting.join()
        self.supervisor.send_signal(signal.SIGTERM)
        self.supervisor.wait()

        executions = set(os.listdir(os.path.join(self.spool, "executions")))
        failed = {name[:-5] for name in os.listdir(os.path.join(self.spool, "failed")) if name.endswith(".json")}
        lost = [i for i in ids if i not in executions and i not in failed]
        stuck = sorted(e for e in executions if (self.state(e) or "").strip() not in FINAL)
        half = {e: p for e in executions if (p := self.half_written(e))}
        with urllib.request.urlopen(self.options.url + "/counts") as response:
            counts = json.load(response)
        counts.update(self.counted_elsewhere(ids))
        twice = sorted(key for key, count in counts.items() if count > 1)
        time.sleep(3)  # runners that are still ending their execution, and idle runner processes, go
        orphans = self.runners()
        mix = ", ".join(f"{len(range(k, self.options.jobs, len(self.kinds)))} {kind}" + (" with 2 children each" if kind == "FLOW" else "")
                        for k, kind in enumerate(self.kinds))
        print(f"storm: {self.options.jobs} jobs ({mix}), "
              f"{self.options.supervisor_kills} supervisor kills, {self.runner_kills} runner kills, {seconds:.1f} s")
        print("storm: outcomes: " + self.outcomes_of(executions))
        if self.options.fresh_runner_kills:
            print(f"storm: {self.fresh_kills} kills aimed at fresh runners (lock file empty), "
                  f"{len(self.fresh_landed)} landed before the runner began; their executions: {self.outcomes_of(self.fresh_landed)}")
            for execution_id in self.fresh_landed:
                if (self.state(execution_id) or "").strip() != "success":
                    print(f"storm: killed fresh, then {(self.state(execution_id) or '?').strip()} after {self.starts_of(execution_id)} starts "
                          f"(a later start that began may have met a random kill): {execution_id}: {self.message_of(execution_id)}", file=sys.stderr)
        print(f"storm: lost {len(lost)}, run twice {len(twice)}, stuck {len(stuck)}, "
              f"half-written {len(half)}, orphaned processes {len(orphans)}")
        for what, items in (("lost", lost), ("run twice", twice), ("stuck", stuck), ("half-written", list(half.items())),
                            ("orphaned", orphans)):
            if items:
                print(f"storm: {what}: {items[:10]}", file=sys.stderr)
        if lost or twice or stuck or half or orphans:
            print(f"storm: the spool and flowspoold's log are kept in {self.work}", file=sys.stderr)
            return 1
        subprocess.run(["rm", "-rf", self.work])
        return 0

    def starts_of(self, execution_id):
        """How many runners were handed the execution, by its history's `running pid=` lines."""
        try:
            with open(os.path.join(self.spool, "executions", execution_id, "history")) as file:
                return sum(1 for line in file if " running pid=" in line)
        except OSError:
            return 0

    def message_of(self, execution_id):
        try:
            with open(os.path.join(self.spool, "executions", execution_id, "message")) as file:
                return file.read().strip()
        except OSError:
            return "(no message)"

    def outcomes_of(self, execution_ids):
        """"success 3, fault 1": how the executions ended, or "none"."""
        outcomes = {}
        for execution_id in execution_ids:
            word = (self.state(execution_id) or "?").strip()
            outcomes[word] = outcomes.get(word, 0) + 1
        return ", ".join(f"{word} {count}" for word, count in sorted(outcomes.items())) or "none"


if __name__ == "__main__":
    storm = Storm(parse_arguments())
    try:
        sys.exit(storm.run())
    finally:
        if storm.supervisor and storm.supervisor.poll() is None:
            storm.supervisor.kill()
