"""kitty-testkit's reference zygote: one Python process that imports the reference CLI once, then
runs each request in a forked child exactly as `<reference script> <args>` would run on its own.

Written under target/ by `zygote.rs` and started by the first test that needs it (under a lock);
every test process then connects to its Unix socket. The server never runs a request itself: it
forks a supervisor per connection, which forks the child that runs the CLI and reports the child's
wait status. See `kitty-testkit/src/zygote.rs` for the protocol and the fidelity argument.

Fidelity rests on three checks made here:
1. While importing, every environment read, working-directory read and file access is recorded.
   A read is either *handled* (a reset below redoes it in the child) or *compared*: the child
   refuses a request whose environment differs on a compared key, and the client then runs the
   reference directly.
2. The server runs with a unique marker directory as HOME, SPEC_KITTY_HOME, TMPDIR, working
   directory and first PATH entry; after importing, every object reachable by the garbage
   collector is searched for the marker. Only the module constants reset below may hold it.
3. Nothing may be written to stdout or stderr while importing (a direct run would show it).
Any failure makes the server answer every run request with `fallback <reason>`.

Two things differ from a direct run only in cost, never in what a run sees: `os.getppid()` answers
the client's pid (a direct run's parent; the reference records it as the agent's shell), and YAML
the reference parses is kept parsed across runs (`memoize_yaml`).
"""

import os
import sys

# ---- stage 1: give the interpreter pipes on fds 1 and 2 ----
# The stdio objects Python builds at start-up depend on what fds 0-2 are (pipe or file, terminal or
# not). A direct run of the reference gets pipes for stdout and stderr, so the server re-executes
# itself with a pipe on both (the read end stays open, to see what the import writes).
if len(sys.argv) == 2:
    _log_fd = os.dup(2)
    _cap_r, _cap_w = os.pipe()
    os.dup2(_cap_w, 1)
    os.dup2(_cap_w, 2)
    os.close(_cap_w)
    os.set_inheritable(_log_fd, True)
    os.set_inheritable(_cap_r, True)
    import json as _json

    with open(sys.argv[1], encoding="utf-8") as _f:
        _cfg = _json.load(_f)
    _interp = [_cfg["interpreter"], *_cfg["interpreter_args"]]
    # The environment as given, without what this interpreter's start-up added (the C-locale
    # coercion's LC_CTYPE): the next start-up must see what a direct run's does.
    _env = {k: v for k, v in os.environ.items() if k in _cfg["spawn_env_keys"]}
    _args = [*_interp, os.path.abspath(__file__), sys.argv[1], str(_log_fd), str(_cap_r)]
    os.execve(_interp[0], _args, _env)

import builtins
import fcntl
import gc
import io
import json
import select
import signal
import socket
import time

CONFIG_PATH = sys.argv[1]
LOG_FD = int(sys.argv[2])
CAPTURE_FD = int(sys.argv[3])
with open(CONFIG_PATH, encoding="utf-8") as _f:
    CFG = json.load(_f)
SCRIPT = CFG["script"]
MARKER = CFG["marker"]
SERVER_HOME = os.environ.get("HOME", "")
SERVER_CWD = os.getcwd()
# What the interpreter added to the environment it was given (the C-locale coercion's LC_CTYPE):
# a direct run gets the same additions, the environment being the same for these keys.
STARTUP_ADDED = {k: v for k, v in os.environ.items() if k not in CFG["spawn_env_keys"]}

# Reads made while importing that a child redoes (see `reset_in_child`).
RERUN_FRAMES = {("specify_cli/bootstrap/env_file.py", "load_operator_env_file")}
HOME_CONSTANTS = [
    ("specify_cli.core.tool_checker", "CLAUDE_LOCAL_PATH"),
    ("specify_cli.session_presence.upgrade_check", "CACHE_PATH"),
]
CWD_CONSTANTS = [("rich", "_IMPORT_CWD")]
# Computed from HOME by the interpreter's start-up (`site`), recomputed with site's own functions.
STARTUP_HOME_CONSTANTS = [("site", "USER_BASE"), ("site", "USER_SITE")]
# The frame that reads HOME or the working directory for each of them (sysconfig's user base is
# recomputed with sysconfig's own function).
HOME_READERS = {(m.replace(".", "/") + ".py", "<module>") for m, _ in HOME_CONSTANTS}
HOME_READERS |= {("sysconfig.py", "joinuser"), ("sysconfig.py", "_getuserbase")}
CWD_READERS = {("rich/__init__.py", "<module>")}
# Frames that only carry a read (the reader is the first frame outside them).
PLUMBING = {"os.py", "posixpath.py", "genericpath.py", "pathlib.py", "_collections_abc.py"}


def log(message):
    try:
        os.write(LOG_FD, f"[zygote {os.getpid()}] {message}\n".encode(errors="replace"))
    except OSError:
        pass


# ---- import-time recording ----

RECORDING = [False]
PREBUILT = []  # the click command typer builds from the app, built once while warming up
READS = []  # (kind, key, frames): kind env|cwd|file, frames innermost first as (file, function)


def _frames():
    out = []
    f = sys._getframe(2)
    while f is not None:
        name = f.f_code.co_filename
        if name != __file__ and not name.startswith("<frozen"):
            out.append((name, f.f_code.co_name))
        f = f.f_back
    return out


def _record(kind, key):
    if RECORDING[0]:
        RECORDING[0] = False
        try:
            READS.append((kind, key, _frames()))
        finally:
            RECORDING[0] = True


class _RecordingEnviron(type(os.environ)):
    def __getitem__(self, key):
        _record("env", key)
        return super().__getitem__(key)

    def __contains__(self, key):
        _record("env", key)
        return super().__contains__(key)

    def get(self, key, default=None):
        _record("env", key)
        return super().get(key, default)

    def __iter__(self):
        _record("env", "*")
        return super().__iter__()

    def copy(self):
        _record("env", "*")
        return super().copy()


def _path_wrapper(original):
    def wrapper(*args, **kwargs):
        path = args[0] if args else kwargs.get("path", kwargs.get("file", "."))
        if RECORDING[0] and isinstance(path, (str, bytes, os.PathLike)):
            text = os.fsdecode(path)
            if MARKER in text or not os.path.isabs(text):
                _record("file", text)
        return original(*args, **kwargs)

    return wrapper


def _cwd_wrapper(original):
    def wrapper():
        _record("cwd", "<cwd>")
        return original()

    return wrapper


PATCHES = [
    (builtins, "open"),
    (io, "open"),
    (os, "stat"),
    (os, "lstat"),
    (os, "listdir"),
    (os, "scandir"),
    (os, "mkdir"),
    (os, "getcwd"),
]


def warm_up():
    """Import the reference as its entry point does before dispatching a command; return the
    reasons the children could not be faithful (empty when they can)."""
    originals = {(m, n): getattr(m, n) for m, n in PATCHES}
    for (m, n), original in originals.items():
        setattr(m, n, _cwd_wrapper(original) if n == "getcwd" else _path_wrapper(original))
    environ_class = type(os.environ)
    os.environ.__class__ = _RecordingEnviron
    RECORDING[0] = True
    problems = []
    try:
        import specify_cli
        import specify_cli.cli.logging_bootstrap  # noqa: F401
        import specify_cli.completion  # noqa: F401

        specify_cli._assemble_app()
        # Every run turns the app into a click command first (typer's `get_command`, a pure
        # function of the assembled app). Built here, under the same recording, it is handed to
        # each child's first call (see `reset_in_child`); later calls build afresh.
        import typer.main

        PREBUILT.append(typer.main.get_command(specify_cli._APP))
    except BaseException as e:  # noqa: BLE001 - reported, never raised in the server
        problems.append(f"importing the reference failed: {type(e).__name__}: {e}")
    finally:
        RECORDING[0] = False
        os.environ.__class__ = environ_class
        for (m, n), original in originals.items():
            setattr(m, n, original)
    sys.stdout.flush()
    sys.stderr.flush()
    os.set_blocking(CAPTURE_FD, False)
    try:
        written = os.read(CAPTURE_FD, 65536)
    except BlockingIOError:
        written = b""
    if written:
        problems.append("the reference wrote while importing: " + written.decode(errors="replace")[:300])
    return problems


def _short(name):
    for root in sorted({p for p in sys.path if p}, key=len, reverse=True):
        if name.startswith(root + os.sep):
            return name[len(root) + 1 :]
    return os.path.basename(name)


def classify(problems):
    """Split the recorded reads into handled ones and compared keys; a read that can be neither
    is a problem."""
    compared = {}
    handled = []
    for kind, key, frames in READS:
        short = [(_short(f), fn) for f, fn in frames]
        if any(fr in RERUN_FRAMES for fr in short):
            handled.append(f"{kind} {key} (re-run: load_operator_env_file)")
            continue
        reader = next((fr for fr in short if os.path.basename(fr[0]) not in PLUMBING), ("?", "?"))
        where = f"{reader[0]}:{reader[1]}"
        if kind == "env" and key == "HOME" and reader in HOME_READERS:
            handled.append(f"env HOME at {where} (rebased)")
        elif kind == "cwd" and reader in CWD_READERS:
            handled.append(f"cwd at {where} (rebased)")
        elif kind == "env" and key != "*":
            compared[key] = os.environ.get(key)
        else:
            problems.append(f"{kind} {key} read while importing at {where}")
    return compared, sorted(set(handled))


def _holds_marker(value):
    if isinstance(value, str):
        return MARKER in value
    if isinstance(value, bytes):
        return MARKER.encode() in value
    if isinstance(value, os.PathLike):
        try:
            return MARKER in os.fspath(value)
        except Exception:  # noqa: BLE001
            return False
    return False


def scan_for_marker(problems, own):
    """Every container that holds the marker after importing, except the zygote's own (`own`,
    by id), the environment, and the constants reset in a child."""
    import sysconfig

    allowed = set(HOME_CONSTANTS + CWD_CONSTANTS + STARTUP_HOME_CONSTANTS)
    for m, a in sorted(allowed):
        module = sys.modules.get(m)
        if module is not None and not _holds_marker(getattr(module, a, None)):
            problems.append(f"{m}.{a} is not derived from HOME or the working directory any more")
    skip = set(own) | {
        id(os.environ._data),
        id(getattr(__import__("posix"), "environ", None)),
        id(sys.argv),
        id(sys.orig_argv),
        id(globals()),
        id(getattr(sysconfig, "_CONFIG_VARS", None)),
    }
    module_dicts = {id(vars(m)): name for name, m in list(sys.modules.items()) if m is not None}
    found = []
    for obj in gc.get_objects():
        if id(obj) in skip:
            continue
        if isinstance(obj, dict):
            owner = module_dicts.get(id(obj))
            for k, v in list(obj.items()):
                if (_holds_marker(v) or _holds_marker(k)) and (owner, k) not in allowed:
                    found.append(f"{owner}.{k}" if owner else f"a dict at key {k!r}")
        elif isinstance(obj, (list, tuple, set, frozenset)) and any(_holds_marker(v) for v in obj):
            found.append(f"a {type(obj).__name__}")
    for where in found:
        problems.append(f"{where} holds the zygote's HOME, PATH, TMPDIR or directory after importing")


# ---- serving ----


def send(conn, line):
    try:
        conn.sendall((line.replace("\n", " ") + "\n").encode(errors="replace"))
    except OSError:
        pass


def read_request(conn):
    conn.settimeout(60)
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 3)
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        more = conn.recv(1 << 16)
        if not more:
            raise EOFError("the client closed the connection mid-request")
        data += more
    size = int.from_bytes(data[:4], "big")
    conn.settimeout(None)
    return data[4 : 4 + size].split(b"\0"), fds


def parse_run(fields):
    """`run`, script, cwd, umask (octal, or empty), the client's pid, argc, args..., envc,
    NAME=VALUE..."""
    it = iter(fields[1:])
    script = os.fsdecode(next(it))
    cwd = os.fsdecode(next(it))
    umask = next(it)
    ppid = int(next(it))
    args = [os.fsdecode(next(it)) for _ in range(int(next(it)))]
    env = {}
    for _ in range(int(next(it))):
        k, _, v = next(it).partition(b"=")
        env[os.fsdecode(k)] = os.fsdecode(v)
    return {
        "script": script,
        "cwd": cwd,
        "umask": int(umask, 8) if umask else None,
        "ppid": ppid,
        "args": args,
        "env": env,
    }


def wait_watching(conn, pid):
    """Wait for `pid`; kill it (SIGKILL) if the client asks or goes away."""
    pidfd = os.pidfd_open(pid) if hasattr(os, "pidfd_open") else None
    killed = False
    while True:
        watch = [conn] if not killed else []
        if pidfd is not None:
            ready, _, _ = select.select(watch + [pidfd], [], [])
        else:
            ready, _, _ = select.select(watch, [], [], 0.005)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return status
        if conn in ready:
            try:
                conn.recv(64)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            killed = True
        if pidfd is not None and pidfd in ready:
            os.close(pidfd)
            return os.waitpid(pid, 0)[1]


def supervise(conn, state):
    """In the per-connection supervisor: answer a status request, or fork the child that runs
    the request. Returns only in that child."""
    fields, fds = read_request(conn)
    if fields[0] == b"status":
        send(conn, "status " + json.dumps(state))
        os._exit(0)
    if fields[0] not in (b"run", b"check"):
        send(conn, f"fallback unknown request {fields[0]!r}")
        os._exit(0)
    if state["problems"]:
        for fd in fds:
            os.close(fd)
        send(conn, "fallback the zygote cannot run the reference faithfully: " + "; ".join(state["problems"])[:2000])
        os._exit(0)
    request = parse_run(fields)
    request["check_only"] = fields[0] == b"check"
    report_r, report_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        os.close(report_r)
        return request, fds, report_w, conn
    os.close(report_w)
    for fd in fds:
        os.close(fd)
    verdict = b""
    while chunk := os.read(report_r, 4096):
        verdict += chunk
    os.close(report_r)
    if verdict == b"go":
        send(conn, f"started {pid}")
        send(conn, f"exit {wait_watching(conn, pid)}")
    else:
        os.waitpid(pid, 0)
        reason = verdict.decode(errors="replace") or "the child died before running the request"
        send(conn, "fallback " + reason.removeprefix("fallback "))
    os._exit(0)


def dispatch(conn, listener, state):
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid:
        conn.close()
        return None
    try:
        listener.close()
        return supervise(conn, state)
    except BaseException as e:  # noqa: BLE001 - a supervisor never returns into the server loop
        log(f"supervisor failed: {type(e).__name__}: {e}")
        send(conn, f"fallback the zygote's supervisor failed: {type(e).__name__}: {e}")
        os._exit(1)


def exit_server(why):
    import shutil

    log(why)
    shutil.rmtree(MARKER, ignore_errors=True)
    os._exit(0)


def reap():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(state):
    """The server loop. Returns (in a forked child only) the request to run."""
    sock_path = CFG["socket"]
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(sock_path + ".new")
    except FileNotFoundError:
        pass
    listener.bind(sock_path + ".new")
    listener.listen(64)
    os.replace(sock_path + ".new", sock_path)
    inode = os.stat(sock_path).st_ino
    log(f"serving {SCRIPT} on {sock_path}")
    last = time.monotonic()
    idle = float(CFG["idle_seconds"])
    while True:
        ready, _, _ = select.select([listener], [], [], 1.0)
        reap()
        if ready:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                continue
            last = time.monotonic()
            child = dispatch(conn, listener, state)
            if child is not None:
                return child
            continue
        try:
            still_ours = os.stat(sock_path).st_ino == inode
        except OSError:
            still_ours = False
        if not still_ours:
            exit_server("the socket was removed or replaced; exiting")
        if time.monotonic() - last < idle:
            continue
        lock = os.open(CFG["lock"], os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(lock)
            continue
        # Idle and no client is starting a server: stop taking connections (under the lock, so
        # a client either reached this socket or will start a new server), then serve the ones
        # already queued and exit.
        try:
            if os.stat(sock_path).st_ino == inode:
                os.unlink(sock_path)
        except OSError:
            pass
        os.close(lock)
        listener.setblocking(False)
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, InterruptedError):
                break
            conn.setblocking(True)
            child = dispatch(conn, listener, state)
            if child is not None:
                return child
        listener.close()
        exit_server("idle; exiting")


def fallback(report_w, reason):
    os.write(report_w, ("fallback " + reason).encode(errors="replace"))
    os.close(report_w)
    os._exit(0)


def _fd_kind(fd):
    import stat

    st = os.fstat(fd)
    return (stat.S_IFMT(st.st_mode), os.isatty(fd), st.st_blksize)


def _rebase(value, old, new):
    """`value` (a path under `old`) moved under `new`, joined as a path; None when not under."""
    text = os.fspath(value) if isinstance(value, os.PathLike) else value
    if not isinstance(text, str) or not (text == old or text.startswith(old + os.sep)):
        return None
    rest = text[len(old) + 1 :]
    if isinstance(value, os.PathLike):
        return type(value)(new, rest) if rest else type(value)(new)
    return os.path.join(new, rest) if rest else new


def reset_in_child(request, fds, report_w, conn):
    """Make this child's process state what a direct run's would be at the same point; on
    anything that cannot be made so, report a fallback (nothing has been written yet)."""
    import pathlib
    import sysconfig
    import warnings

    conn.close()
    try:
        os.close(LOG_FD)
    except OSError:
        pass
    try:
        if request["script"] != SCRIPT:
            fallback(report_w, f"this zygote runs {SCRIPT}, not {request['script']}")
        kinds = [_fd_kind(fd) for fd in fds]
        if len(fds) != 3 or kinds != STDIO_KINDS:
            fallback(report_w, f"stdio {kinds} is not the zygote's {STDIO_KINDS} (pipes, /dev/null stdin)")
        os.chdir(request["cwd"])
        if request["umask"] is not None:
            os.umask(request["umask"])
        # A direct run's parent is the client (the reference records it as the agent's shell);
        # this child's is a supervisor, another one each run.
        parent = request["ppid"]
        os.getppid = lambda: parent
        os.environ.clear()
        os.environ.update(request["env"])
        for k, v in STARTUP_ADDED.items():
            os.environ.setdefault(k, v)
        import specify_cli
        import specify_cli.completion as completion

        if os.environ.get(completion.COMPLETE_VAR):
            fallback(report_w, "shell completion imports less than the zygote did")
        argv = [request["script"], *request["args"]]
        if specify_cli._is_doctor_restart_daemon_process_fast_path(argv):
            fallback(report_w, "the restart-daemon fast path imports less than the zygote did")
        from specify_cli.bootstrap.env_file import load_operator_env_file

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            load_operator_env_file()
        if caught:
            fallback(report_w, f"the operator env files warn: {caught[0].message}")
        for key, value in COMPARED.items():
            if os.environ.get(key) != value:
                fallback(report_w, f"{key} (read while importing) is {os.environ.get(key)!r}, the zygote's {value!r}")
        home = str(pathlib.Path.home())
        cwd = os.path.abspath(os.getcwd())
        for constants, old, new in ((HOME_CONSTANTS, SERVER_HOME, home), (CWD_CONSTANTS, SERVER_CWD, cwd)):
            for m, a in constants:
                module = sys.modules.get(m)
                if module is not None and hasattr(module, a):
                    rebased = _rebase(getattr(module, a), old, new)
                    if rebased is None:
                        fallback(report_w, f"{m}.{a} is not under the zygote's HOME or directory")
                    setattr(module, a, rebased)
        import site

        if site.USER_BASE is not None or site.USER_SITE is not None:
            site.USER_BASE = site.USER_SITE = None
            site.getusersitepackages()
        config_vars = getattr(sysconfig, "_CONFIG_VARS", None) or {}
        if "userbase" in config_vars:
            config_vars["userbase"] = sysconfig._getuserbase()
        for k, v in config_vars.items():
            if _holds_marker(v):
                fallback(report_w, f"sysconfig's {k} holds the zygote's directory")
    except BaseException as e:  # noqa: BLE001 - before the request runs, any error is a fallback
        fallback(report_w, f"preparing the child failed: {type(e).__name__}: {e}")
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        if fd > 2:
            os.close(fd)
    if request["check_only"]:
        # Only asked whether it would run: it would; nothing runs.
        os.write(report_w, b"go")
        os._exit(0)
    sys.argv[:] = argv
    sys.orig_argv[:] = [CFG["interpreter"], *CFG["interpreter_args"], request["script"], *request["args"]]
    if PREBUILT:
        _hand_over_prebuilt_command(specify_cli._APP, PREBUILT[0])
    os.write(report_w, b"go")
    os.close(report_w)


def exit_as_the_interpreter_would(exit):
    """End the run as a direct run's interpreter ends it, in what a run can observe: its exit
    status, the non-daemon threads joined, the `atexit` handlers run, the standard streams
    flushed, and what the run opened and left open (files, SQLite connections) closed, as their
    deallocation at teardown would close them; then `os._exit`, without tearing down the zygote's
    modules, which would make the child copy the zygote's memory page by page (about 0.4
    CPU-seconds a run). An exit this cannot mirror exactly (a status that is not 0-255 or None, a
    stream that fails to flush) is raised again for the interpreter's own exit."""
    code = exit.code
    if code is not None and (type(code) is not int or not 0 <= code <= 255):
        raise exit
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    import atexit

    atexit._run_exitfuncs()
    gc.collect()
    sqlite3 = sys.modules.get("sqlite3")
    standard = {id(x) for x in (sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__)}
    for obj in gc.get_objects():  # the run's own objects only: the zygote's are frozen
        try:
            if id(obj) in standard:
                continue
            if isinstance(obj, io.IOBase) and not obj.closed:
                obj.close()
            elif sqlite3 is not None and isinstance(obj, sqlite3.Connection):
                obj.close()
        except Exception:  # noqa: BLE001, S112 - teardown ignores what a close raises, as here
            continue
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # noqa: BLE001 - the interpreter reports it and exits 120
            raise exit from None
    os._exit(code or 0)


def memoize_yaml(cache_dir):
    """Keep each YAML text the reference parses, parsed, in `cache_dir` (shared by every server
    and run): a later run loading the same text with the same loader settings unpickles it
    instead of parsing it again. The reference parses hundreds of its own packaged YAML files on
    most commands (mission types, steps, its doctrine) with ruamel's pure-Python parser, which is
    most of a run's time; unpickling the parsed tree gives an equal, fresh object (comments and
    order kept) in a twentieth of it. Only successful loads are kept, of a `str`, of a file named by
    a path (its doctrine graph and items; kept by the path and the file's bytes, and only when the
    bytes did not change while ruamel read them) and of an open text file read from its start
    (the project's config; kept by its name and text); a failing parse, any other stream goes to
    ruamel as it is. True once installed."""
    if not cache_dir:
        return False
    try:
        import hashlib
        import io
        import pathlib
        import pickle

        import ruamel.yaml
        from ruamel.yaml.main import YAML
    except ImportError:
        return False
    try:
        os.makedirs(cache_dir, exist_ok=True)
    except OSError:
        return False
    salt = repr((ruamel.yaml.__version__, sys.version_info[:3], pickle.HIGHEST_PROTOCOL)).encode()
    original = YAML.load

    def _at_start(stream):
        try:
            return stream.seekable() and stream.tell() == 0
        except (OSError, ValueError):
            return False

    def read(path):
        try:
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            return None

    def load(self, stream):
        if isinstance(stream, str):
            payload = stream.encode("utf-8", "surrogatepass")
        elif isinstance(stream, io.TextIOBase) and _at_start(stream):
            # An open text file (`.kittify/config.yaml`): read whole, then rewound for ruamel
            # on a miss; on a hit it is left read to its end, as ruamel leaves it.
            try:
                text = stream.read()
                stream.seek(0)
            except (OSError, ValueError):
                return original(self, stream)
            name = os.fsencode(str(getattr(stream, "name", "")))
            payload = b"\0file\0" + name + b"\0" + text.encode("utf-8", "surrogatepass")
        elif isinstance(stream, pathlib.PurePath):
            # A text holding NUL is never kept (ruamel refuses it), so this cannot collide.
            content = read(stream)
            if content is None:
                return original(self, stream)
            payload = b"\0path\0" + os.fsencode(str(stream)) + b"\0" + content
        else:
            return original(self, stream)
        settings = repr(
            (
                self.typ,
                self.pure,
                self.preserve_quotes,
                self.allow_duplicate_keys,
                self.version,
                getattr(self.Constructor, "__qualname__", None),
            )
        ).encode()
        key = hashlib.sha256(salt + b"\0" + settings + b"\0" + payload)
        path = os.path.join(cache_dir, key.hexdigest() + ".pickle")
        try:
            with open(path, "rb") as f:
                data = pickle.loads(f.read())
        except Exception:  # noqa: BLE001 - not kept (or unreadable): parsed as usual
            pass
        else:
            if isinstance(stream, io.TextIOBase):
                stream.read()
            return data
        data = original(self, stream)
        if isinstance(stream, pathlib.PurePath) and read(stream) != content:
            return data
        try:
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "wb") as f:
                f.write(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, path)
        except Exception:  # noqa: BLE001 - a cache that cannot be written is only slower
            pass
        return data

    YAML.load = load
    return True


def _hand_over_prebuilt_command(app, command):
    """Make typer's next `get_command(app)` (the entry point's, first thing it does) return
    `command`, built in the server from the same app and never used there; then put typer's own
    function back, so any later call builds afresh as in a direct run."""
    import typer.main

    original = typer.main.get_command

    def get_command(typer_instance):
        typer.main.get_command = original
        if typer_instance is app:
            return command
        return original(typer_instance)

    typer.main.get_command = get_command


# ---- main ----

if CFG.get("first_path_entry"):
    sys.path[0] = CFG["first_path_entry"]
STDIO_KINDS = [_fd_kind(fd) for fd in (0, 1, 2)]
_started = time.monotonic()
_problems = warm_up()
_imported = time.monotonic()
COMPARED, _handled = classify(_problems)
del READS[:]
scan_for_marker(_problems, [id(x) for x in (_problems, COMPARED, _handled, READS, CFG, STARTUP_ADDED)])
_yaml_cache = CFG.get("yaml_cache") if not _problems and memoize_yaml(CFG.get("yaml_cache")) else None
log(f"imported in {_imported - _started:.2f}s, checked in {time.monotonic() - _imported:.2f}s")
STATE = {
    "problems": _problems,
    "compared": COMPARED,
    "handled": _handled,
    "pid": os.getpid(),
    "prebuilt_command": bool(PREBUILT),
    "yaml_cache": _yaml_cache,
    "startup": {
        "utf8_mode": sys.flags.utf8_mode,
        "stdout": [sys.stdout.encoding, sys.stdout.errors, sys.stdout.line_buffering],
        "filesystem": [sys.getfilesystemencoding(), sys.getfilesystemencodeerrors()],
        "added_env": STARTUP_ADDED,
    },
}
for _p in _problems:
    log("cannot be faithful: " + _p)
# From here on anything the server or a supervisor prints goes to the log (a child replaces these
# descriptors with its request's before it runs anything).
os.dup2(LOG_FD, 1)
os.dup2(LOG_FD, 2)
os.close(CAPTURE_FD)
# Everything imported so far is the zygote's: its children's collections skip it, and
# `exit_as_the_interpreter_would` finds only what a run made itself.
gc.freeze()
_child = serve(STATE)

# ---- in the child only: run the script as the interpreter would ----
reset_in_child(*_child)
del _child, _problems, _handled
import importlib.machinery  # noqa: E402
import types  # noqa: E402

_file = sys.argv[0] if os.path.isabs(sys.argv[0]) else os.path.join(os.getcwd(), sys.argv[0])
with open(SCRIPT, "rb") as _f:
    _code = compile(_f.read(), _file, "exec", dont_inherit=True)
_main = types.ModuleType("__main__")
_main.__dict__.update(
    __file__=_file,
    __cached__=None,
    __loader__=importlib.machinery.SourceFileLoader("__main__", _file),
    __annotations__={},
)
sys.modules["__main__"] = _main
try:
    exec(_code, _main.__dict__)
except SystemExit as _e:
    exit_as_the_interpreter_would(_e)
except KeyboardInterrupt as _e:
    _e.__traceback__ = _e.__traceback__.tb_next
    sys.excepthook(type(_e), _e, _e.__traceback__)
    import atexit

    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
except BaseException as _e:  # noqa: BLE001 - printed as the interpreter prints an uncaught error
    _e.__traceback__ = _e.__traceback__.tb_next
    sys.excepthook(type(_e), _e, _e.__traceback__)
    exit_as_the_interpreter_would(SystemExit(1))
exit_as_the_interpreter_would(SystemExit(None))
