"""kitty-testkit's stand-in for the reference CLI where a program (kitty delegating a command) runs
it: sends exactly what it was given (arguments, the environment as this process received it,
directory, umask, stdin/stdout/stderr) to the reference zygote and exits as the reference's run
did; whenever the zygote does not take the request, it becomes the reference itself (exec), so
the program sees the reference either way. Written by `zygote_shim.rs`; the two values below are
filled in there."""

import os
import socket
import sys

REFERENCE = "@REFERENCE@"
SOCKET = "@SOCKET@"


def become_the_reference():
    os.execv(REFERENCE, [REFERENCE, *sys.argv[1:]])


def request():
    # The environment as exec'd, before this interpreter's start-up added to it.
    with open("/proc/self/environ", "rb") as f:
        env = [e for e in f.read().split(b"\0") if e]
    umask = b""
    with open("/proc/self/status", "rb") as f:
        for line in f:
            if line.startswith(b"Umask:"):
                umask = line.split()[1]
    args = [os.fsencode(a) for a in sys.argv[1:]]
    fields = [b"run", os.fsencode(REFERENCE), os.fsencode(os.getcwd()), umask, str(len(args)).encode()]
    fields += args + [str(len(env)).encode()] + env
    body = b"\0".join(fields)
    return len(body).to_bytes(4, "big") + body


def main():
    try:
        payload = request()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(SOCKET)
        socket.send_fds(conn, [payload], [0, 1, 2])
        answers = conn.makefile("rb")
        first = answers.readline()
    except Exception:  # noqa: BLE001 - the zygote took nothing: run the reference itself
        become_the_reference()
    if not first.startswith(b"started "):
        become_the_reference()
    last = answers.readline()
    if not last.startswith(b"exit "):
        sys.stderr.write(f"kitty-testkit: the reference zygote lost this run ({last!r})\n")
        os._exit(70)
    status = int(last.split()[1])
    if os.WIFSIGNALED(status):
        import signal

        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1)


main()
