"""Validate event envelopes against the published contract (spec-kitty-events).

Input: JSON Lines on stdin or in the files named as arguments; each line is either an envelope or
{"test": <name>, "envelope": <envelope>}. Each envelope is checked twice with the package's own
validator, strictly (JSON Schema required): as an `Event` envelope, and as its `event_type`'s
payload. Output: one JSON object per envelope on stdout, then a summary line. Exit status 0 when
every envelope conforms and there was at least one, 1 otherwise, 2 when the package is missing.
"""

import json
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


def main(argv):
    total = failed = 0
    for source, line in lines(argv):
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
        print(json.dumps({
            "source": source,
            "test": test,
            "event_id": envelope.get("event_id") if isinstance(envelope, dict) else None,
            "event_type": envelope.get("event_type") if isinstance(envelope, dict) else None,
            "valid": not problems,
            "problems": problems,
        }))
    print(json.dumps({
        "summary": True,
        "contract": "spec-kitty-events " + getattr(spec_kitty_events, "__version__", "?"),
        "envelopes": total,
        "failed": failed,
    }))
    return 0 if total and not failed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
