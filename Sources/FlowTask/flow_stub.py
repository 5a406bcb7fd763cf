"""The script side of a Python flow: the `c` object of the platform's flows (and the `system, this`
pair of its later ones) as a thin stub that asks the host for everything over two pipes, one JSON
request per line on descriptor 3, one JSON reply per line on descriptor 4.

The FLOW runner embeds this file when it is built and starts it as `python3 - SCRIPT`, with the
stub on standard input (a file in memory), so that a process listing shows the script, not the stub.
"""
import inspect, json, os, sys, threading, time, traceback

# Python has read this stub to its end; the script's standard input is /dev/null, as any task's.
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)

os.set_inheritable(3, False)
os.set_inheritable(4, False)
_requests = os.fdopen(3, "w", buffering=1, encoding="utf-8")
_replies = os.fdopen(4, "r", encoding="utf-8")
_script = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(_script)))


_FINAL = ("success", "error", "fault", "cancelled")


class FlowError(Exception):
    """A request the flowspool host refused, or a child execution that ended as it should not."""


_lock = threading.Lock()


def _call(op, **arguments):
    """One request and its reply, one thread at a time. When the host has closed the pipes (the
    flow has ended), whatever still talks is ended at once."""
    arguments["op"] = op
    text = json.dumps(arguments, allow_nan=False) + "\n"
    with _lock:
        try:
            _requests.write(text)
            line = _replies.readline()
        except (OSError, ValueError):
            os._exit(70)
    if not line:
        os._exit(70)
    reply = json.loads(line)
    if "error" in reply:
        raise FlowError(reply["error"])
    return reply.get("result")


def _text(args, kwargs):
    parts = [a if isinstance(a, str) else repr(a) for a in args]
    parts += [f"{k}={v if isinstance(v, str) else repr(v)}" for k, v in kwargs.items()]
    return " ".join(parts)


class Execution:
    """A child execution: created by c.task(...), started by run() or runAsync()."""

    def __init__(self, context, task_type, inputs):
        self._context = context
        self._type = task_type
        self._inputs = inputs
        self.id = None
        self._ended = False

    def runAsync(self, detach=False):
        """Starts the child. A detached child goes on when the flow ends; others are cancelled."""
        if self.id is None:
            self.id = _call("submit", task=self._type, inputs=self._inputs, detached=bool(detach))
        return self

    def wait(self, timeout=None):
        self.runAsync()
        if not self._ended:
            states = _call("wait", ids=[self.id], until="all", timeout=timeout)
            self._ended = states[self.id] in _FINAL
        return self

    def run(self, expected=("success",), unexpected="error"):
        self.wait()
        status = self.getStatus()
        if status in expected:
            return self
        message = f"child execution {self.id} ({self._type}) ended {status}"
        detail = _call("message", id=self.id)
        if detail:
            message += ": " + detail
        if unexpected == "raise":
            raise FlowError(message)
        if unexpected == "ignore":
            return self
        self._context.end("error", message=message)

    def getStatus(self):
        if self.id is None:
            return "not started"
        return _call("status", id=self.id)

    def getOutputs(self):
        return _call("outputs", id=self.wait().id)

    def getInputs(self):
        return dict(self._inputs)

    # The platform's later flows.
    run_async = runAsync

    def get(self, what):
        if what in ("output_value", "outputs"):
            return self.getOutputs()
        if what in ("input_value", "inputs"):
            return self.getInputs()
        if what == "status":
            return self.getStatus()
        if what == "message":
            return _call("message", id=self.runAsync().id)
        raise FlowError(f"an execution has no '{what}' (output_value, input_value, status, message)")


class Context:
    """The c of `def handler(c)`."""

    def task(self, task_type, inputs_dict=None, **inputs):
        merged = dict(inputs_dict or {})
        merged.update(inputs)
        return Execution(self, task_type, merged)

    def flow(self, script, **inputs):
        if "\n" not in script and not os.path.isabs(script):
            candidate = os.path.join(os.path.dirname(os.path.abspath(_script)), script)
            if os.path.exists(candidate):
                script = candidate
        return Execution(self, "FLOW", {"script": script, "inputs": inputs})

    def log(self, *args, **kwargs):
        _call("log", text=_text(args, kwargs))

    logln = log

    def end(self, status, message=None):
        _call("end", status=status, message=message)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def setOutput(self, key, value):
        _call("set_outputs", outputs={key: value})

    def setOutputs(self, outputs):
        _call("set_outputs", outputs=dict(outputs))

    def getInputs(self):
        return _call("inputs")

    def setting(self, name, value=inspect.Parameter.empty):
        if value is inspect.Parameter.empty:
            return _call("setting", name=name)
        return _call("setting", name=name, value=value)

    def waitFor(self, *executions, timeout=None):
        executions = [e.runAsync() for e in _flatten(executions)]
        if not executions:
            return None
        states = _call("wait", ids=[e.id for e in executions], until="any", timeout=timeout)
        return next((e for e in executions if states[e.id] in _FINAL), None)

    def waitForAll(self, *executions, timeout=None):
        executions = [e.runAsync() for e in _flatten(executions)]
        _call("wait", ids=[e.id for e in executions], until="all", timeout=timeout)
        return executions

    def sleep(self, seconds):
        _call("sleep", seconds=seconds)


def _flatten(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from item
        else:
            yield item


class This(Context):
    """The `this` of `def handler(system, this)`."""

    def success(self, message=None):
        self.end("success", message=message)

    def error(self, message=None):
        self.end("error", message=message)


class _Setting:
    def __init__(self, name):
        self.name = name

    def get(self, what="value"):
        if what != "value":
            raise FlowError(f"a setting has no '{what}' (value)")
        return _call("setting", name=self.name)

    def save(self, value=None):
        _call("setting", name=self.name, value=value)


class System:
    """The `system` of `def handler(system, this)`."""

    def setting(self, name):
        return _Setting(name)


def _failure(error):
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == _script]
    where = f" (line {frames[-1].lineno} of {_script})" if frames else ""
    return f"{type(error).__name__}: {error}{where}"


def _main():
    namespace = {"__name__": "__flow__", "__file__": _script, "FlowError": FlowError}
    try:
        with open(_script, encoding="utf-8") as file:
            code = compile(file.read(), _script, "exec")
        exec(code, namespace)
        handler = namespace.get("handler")
        if not callable(handler):
            raise FlowError(f"{_script} defines no handler(c) function")
        if len(inspect.signature(handler).parameters) >= 2:
            handler(System(), This())
        else:
            handler(Context())
        _call("return")
    except SyntaxError as error:
        _call("fail", message=f"SyntaxError: {error.msg} (line {error.lineno} of {_script})")
    except Exception as error:
        _call("fail", message=_failure(error))
    # The flow has ended: threads the script left running end with it, as after c.end.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


_main()
