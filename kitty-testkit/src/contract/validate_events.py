"""Validate event envelopes against the published contract (spec-kitty-events).

Input: JSON Lines on stdin or in the files named as arguments; each line is either an envelope or
{"test": <name>, "envelope": <envelope>}. Each envelope is checked twice with the package's own
validator, strictly (JSON Schema required): as an `Event` envelope, and as its `event_type`'s
payload. Output: one JSON object per envelope on stdout, then a summary line. Exit status 0 when
every envelope conforms and there was at least one, 1 otherwise, 2 when the package is missing.

`--serve SOCKET IDLE_SECONDS`: import the package once, then answer on a Unix socket until no
request came for IDLE_SECONDS. A request is the input lines, then the end of the client's writing;
the answer is the exit status on its first line, then the output.
"""

import json
import os
import sys

try:
    import spec_kitty_events
    from spec_kitty_events.conformance.validators import validate_event
except ImportError as exc:  # pragma: no cover - environment problem
    print(json.dumps({"error": f"spec-kitty-events is not importable: {exc}"}))
    sys.exit(2)


def violations(result):
    out = []
    for v in result.model_violations:
        out.append(f"model {v.field}: {v.message}")
    for v in result.schema_violations:
        out.append(f"schema {getattr(v, 'json_path', '')}: {v.message}")
    return out


def check(envelope):
    problems = []
    if not isinstance(envelope, dict):
        return ["the envelope is not a JSON object"]
    for kind in ("Event", envelope.get("event_type")):
        try:
            result = validate_event(envelope, kind, strict=True)
        except Exception as exc:  # unknown event type, missing jsonschema...
            problems.append(f"{kind}: {exc}")
            continue
        problems.extend(f"{kind}: {p}" for p in violations(result))
    return problems


def lines(argv):
    if len(argv) > 1:
        for name in argv[1:]:
            with open(name, encoding="utf-8") as fh:
                for line in fh:
                    yield name, line
    else:
        for line in sys.stdin:
            yield "<stdin>", line


def main(argv, emit=print):
    if len(argv) == 4 and argv[1] == "--serve":
        return serve(argv[2], float(argv[3]))
    return run(lines(argv), emit)


def run(inputs, emit):
    total = failed = 0
    for source, line in inputs:
        line = line.strip()
        if not line:
            continue
        record = json.loads(line)
        if isinstance(record, dict) and "envelope" in record and "event_id" not in record:
            test, envelope = record.get("test"), record["envelope"]
        else:
            test, envelope = None, record
        problems = check(envelope)
        total += 1
        failed += bool(problems)
        emit(json.dumps({
            "source": source,
            "test": test,
            "event_id": envelope.get("event_id") if isinstance(envelope, dict) else None,
            "event_type": envelope.get("event_type") if isinstance(envelope, dict) else None,
            "valid": not problems,
            "problems": problems,
        }))
    emit(json.dumps({
        "summary": True,
        "contract": "spec-kitty-events " + getattr(spec_kitty_events, "__version__", "?"),
        "envelopes": total,
        "failed": failed,
    }))
    return 0 if total and not failed else 1


def serve(path, idle):
    import socket

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # Bound under another name, then renamed: a client never connects to a half-ready socket.
    staging = f"{path}.{os.getpid()}"
    if os.path.exists(staging):
        os.remove(staging)
    server.bind(staging)
    server.listen(64)
    os.rename(staging, path)
    own = os.stat(path).st_ino
    server.settimeout(idle)
    while True:
        try:
            conn, _ = server.accept()
        except socket.timeout:
            break
        with conn:
            conn.settimeout(60)
            chunks = []
            try:
                while chunk := conn.recv(65536):
                    chunks.append(chunk)
                out = []
                text = b"".join(chunks).decode("utf-8")
                status = run((("<socket>", l) for l in text.splitlines()), out.append)
                conn.sendall(("\n".join([str(status), *out]) + "\n").encode("utf-8"))
            except OSError:
                continue
    # Gone only if the socket is still this server's (a successor may have replaced it).
    try:
        if os.stat(path).st_ino == own:
            os.remove(path)
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
