"""natsfn Python worker bootstrap (started by bootstrap.py).

The sidecar spawns `python3 bootstrap.py` with the package root as cwd and fd 3 as a socketpair
speaking the frame protocol (DESIGN "Worker frame protocol"). This module loads an unmodified AWS
Lambda handler (`def handler(event, context)`), says ready, then runs one invocation at a time.

Start-up time is cold-start time, so the module imports only what every invocation needs;
json, logging's set-up, decimal and traceback come in when first used (`python3 -X importtime`:
socket, logging, decimal and traceback were 14 of the bootstrap's 20 ms).

Environment: LAMBDA_TASK_ROOT (package root), NATSFN_HANDLER (`app.handler`, `src/app.handler`),
AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, plus the
function's own variables. Standard library only.
"""

import os
import struct
import sys
import time

import natsfn_msgpack as msgpack

FRAME_FD = 3
MAX_FRAME_BYTES = 64 << 20
_FRAME_HEADER = struct.Struct(">I")

# The bootstrap's own directory must not shadow user modules: a handler module named `bootstrap`
# would otherwise import this file again.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE]

_current_request_id = None
_PID = ""  # set once in main(): the context's log_stream_name, without a getpid per invocation


class InitError(Exception):
    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class LambdaContext:
    """The fields Lambda's Python context has; headers and subject are natsfn extras."""

    def __init__(self, frame):
        ctx = frame.get("ctx") or {}
        self._deadline_ms = int(frame.get("deadline_ms") or 0)
        self.aws_request_id = str(ctx.get("request_id") or frame.get("id") or "")
        self.function_name = str(ctx.get("function") or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", ""))
        self.function_version = str(
            ctx.get("version") or os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"))
        # Lambda gives this as a string (it reads the environment variable), so do we.
        self.memory_limit_in_mb = str(
            ctx.get("memory_mb") or os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", ""))
        self.invoked_function_arn = "arn:natsfn:function:%s" % self.function_name
        self.log_group_name = "/natsfn/%s" % self.function_name
        self.log_stream_name = _PID
        self.identity = None
        self.client_context = None
        self.subject = str(ctx.get("subject") or "")
        self.headers = dict(frame.get("headers") or {})

    def get_remaining_time_in_millis(self):
        return max(0, self._deadline_ms - int(time.time() * 1000))


# --------------------------------------------------------------------------------------------
# Logging: Lambda's format, `[LEVEL]\t<time>\t<request id>\t<message>`, one record per line.


def _configure_output():
    # Line buffering so every print reaches the sidecar's line capture promptly, without -u.
    sys.stdout.reconfigure(line_buffering=True, errors="backslashreplace")
    sys.stderr.reconfigure(line_buffering=True, errors="backslashreplace")


_logging_configured = False


def _configure_logging_if_imported():
    """Gives the root logger Lambda's format once the function has imported logging.

    Called after the handler module loads and before each invocation: a function that never
    imports logging never pays for it, and one that does gets the handler before it logs.
    """
    global _logging_configured
    if _logging_configured or "logging" not in sys.modules:
        return
    _logging_configured = True
    import logging

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _current_request_id
            return True

    class LambdaFormatter(logging.Formatter):
        converter = time.gmtime

        def __init__(self):
            super().__init__(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s",
                "%Y-%m-%dT%H:%M:%S")

        def format(self, record):
            # A multi-line message or traceback must stay one captured log line.
            return super().format(record).replace("\r\n", "\r").replace("\n", "\r")

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LambdaFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)


# --------------------------------------------------------------------------------------------
# The frame socket.


class FrameSocket:
    """Frames over fd 3 with plain os.read/os.write: the socket module costs ~3 ms to import."""

    def __init__(self, fd):
        try:
            os.fstat(fd)
        except OSError as e:
            sys.stderr.write("natsfn bootstrap: fd %d is not open (%s); start me from the sidecar\n"
                             % (fd, e))
            sys.exit(2)
        self._fd = fd
        os.set_blocking(fd, True)
        # Bytes read but not yet decoded. One read usually brings a whole invoke frame, header
        # and body: one system call per invocation instead of two.
        self._buf = bytearray()

    def _fill(self, n):
        """Reads until n bytes are buffered. False on a clean EOF with nothing buffered."""
        while len(self._buf) < n:
            chunk = os.read(self._fd, max(n - len(self._buf), 65536))
            if not chunk:
                if not self._buf:
                    return False
                raise EOFError("frame socket closed mid-frame")
            self._buf += chunk
        return True

    def read_frame(self):
        if not self._fill(4):
            return None
        (size,) = _FRAME_HEADER.unpack_from(self._buf)
        if size > MAX_FRAME_BYTES:
            raise ValueError("frame of %d bytes exceeds the limit" % size)
        end = 4 + size
        self._fill(end)
        if len(self._buf) == end:  # the usual case: decode in place, start a fresh buffer
            body, self._buf = memoryview(self._buf)[4:], bytearray()
        else:
            body = bytes(self._buf[4:end])
            del self._buf[:end]
        return msgpack.decode(body)

    def write_frame(self, frame):
        data = memoryview(msgpack.encode_frame(frame))
        while data:
            data = data[os.write(self._fd, data):]


# --------------------------------------------------------------------------------------------
# Loading the handler.


def load_handler(spec):
    module_name, dot, function_name = spec.rpartition(".")
    if not dot or not module_name or not function_name:
        raise InitError("Runtime.MalformedHandlerName",
                        "Bad handler '%s': expected <module>.<function>" % spec)
    dotted = module_name.replace("/", ".")
    try:
        __import__(dotted)
        module = sys.modules[dotted]
    except ImportError as e:
        raise InitError("Runtime.ImportModuleError",
                        "Unable to import module '%s': %s" % (module_name, e)) from e
    except SyntaxError as e:
        raise InitError("Runtime.UserCodeSyntaxError",
                        "Syntax error in module '%s': %s" % (module_name, e)) from e
    except Exception as e:
        raise InitError(type(e).__name__, "%s" % e) from e
    fn = getattr(module, function_name, None)
    if fn is None:
        raise InitError("Runtime.HandlerNotFound",
                        "Handler '%s' missing on module '%s'" % (function_name, module_name))
    if not callable(fn):
        raise InitError("Runtime.HandlerNotFound",
                        "Handler '%s' on module '%s' is not callable" % (function_name, module_name))
    return fn


# --------------------------------------------------------------------------------------------
# Invocations.


# Bytes a JSON text can start with after leading whitespace, as json.loads reads it: RFC 8259's
# { [ " - 0-9 t f n plus Python's NaN and Infinity.
_JSON_START = frozenset(b'{["-0123456789tfnNI')


def _may_be_json(text):
    stripped = text.lstrip(" \t\n\r")
    return bool(stripped) and ord(stripped[0]) in _JSON_START


def decode_event(payload):
    if not payload:
        return {}
    try:
        text = bytes(payload).decode("utf-8")
    except UnicodeDecodeError:
        return bytes(payload)
    # A failed json.loads raises and formats a JSONDecodeError: skip it for plain text.
    if not _may_be_json(text):
        return text
    import json  # once per process; a no-op dictionary lookup after the first invocation
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_default(o):
    # Lambda's Python runtime serialises Decimal (as DynamoDB returns numbers) as a float. Only a
    # function that made a Decimal has imported decimal.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(o, decimal.Decimal):
        return float(o)
    raise TypeError("Object of type %s is not JSON serializable" % type(o).__name__)


def encode_result(result):
    if result is None:
        return b""
    if isinstance(result, str):
        return result.encode("utf-8", "surrogateescape")
    if isinstance(result, (bytes, bytearray, memoryview)):
        return result
    import json
    return json.dumps(result, default=_json_default).encode("utf-8")


def error_body(exc):
    import traceback
    stack = []
    for entry in traceback.format_exception(type(exc), exc, exc.__traceback__):
        stack.extend(line for line in entry.rstrip("\n").split("\n"))
    return {"type": type(exc).__name__, "message": str(exc), "stack": stack}


def run_invocation(handler, frame):
    global _current_request_id
    invoke_id = str(frame.get("id", ""))
    context = LambdaContext(frame)
    _configure_logging_if_imported()
    _current_request_id = context.aws_request_id
    try:
        result = handler(decode_event(frame.get("payload")), context)
        try:
            payload = encode_result(result)
        except Exception as e:
            return {"t": "result", "id": invoke_id, "ok": False, "error": {
                "type": "Runtime.MarshalError",
                "message": "Unable to marshal response: %s" % e,
                "stack": []}}
        return {"t": "result", "id": invoke_id, "ok": True, "payload": payload, "headers": {}}
    except Exception as e:
        return {"t": "result", "id": invoke_id, "ok": False, "error": error_body(e)}
    finally:
        _current_request_id = None
        sys.stdout.flush()
        sys.stderr.flush()


def _apply_memory_limit():
    # The function's memory_mb bounds its data segment (heap and anonymous mappings): an
    # allocation past it raises MemoryError inside the handler instead of growing the host.
    # RLIMIT_DATA, unlike RLIMIT_AS, does not count shared libraries and reservations.
    mb = os.environ.get("NATSFN_MEMORY_MB")
    if not mb:
        return
    try:
        import resource
        limit = int(mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    except (ValueError, OSError) as e:
        sys.stderr.write("natsfn: cannot apply memory limit: %s\n" % e)


def main():
    global _PID
    _PID = str(os.getpid())
    _configure_output()
    _apply_memory_limit()
    frames = FrameSocket(FRAME_FD)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    if task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = load_handler(os.environ.get("NATSFN_HANDLER", ""))
        _configure_logging_if_imported()
    except InitError as e:
        sys.stderr.write("%s: %s\n" % (e.error_type, e.message))
        frames.write_frame({"t": "init_error", "type": e.error_type, "message": e.message})
        return 1
    frames.write_frame({"t": "ready"})

    while True:
        try:
            frame = frames.read_frame()
        except (ValueError, EOFError, OSError) as e:
            sys.stderr.write("natsfn bootstrap: bad frame from sidecar: %s\n" % e)
            return 3
        if frame is None:
            return 0  # the sidecar closed our socket: this worker is finished
        if not isinstance(frame, dict) or frame.get("t") != "invoke":
            sys.stderr.write("natsfn bootstrap: unexpected frame %r\n" % (frame,))
            return 3
        try:
            reply = run_invocation(handler, frame)
        except BaseException as e:
            # sys.exit() or KeyboardInterrupt inside a handler: the invocation crashed, and a
            # clean exit code would hide that. Die so the sidecar replaces this worker.
            sys.stderr.write("natsfn bootstrap: handler ended the process: %r\n" % (e,))
            sys.stderr.flush()
            code = e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 1
            os._exit(code or 1)
        frames.write_frame(reply)

