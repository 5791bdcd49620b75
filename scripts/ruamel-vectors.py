"""Writes product/src/mission/retrospective/testdata/ruamel.json: mappings and the YAML the
reference's dumper (kernel.yaml_io.serialize_mapping, width 120) writes for them. Run with the
reference's Python: target/reference-venv/bin/python scripts/ruamel-vectors.py"""
import json
import random
import sys

from kernel.yaml_io import serialize_mapping

rng = random.Random(2026)
words = ["a", "ab", "word", "longer", "it's", "x:y", ": ", " #", "#", "-", '"q"', "é", "—", "\t", "  ",
         "\u2028", "[x]", "1.0", "true", "\\", "'", "…", "w" * 30, "z" * 125, "\u00a0", "\x07"]
cases = []
for n in range(80):
    text = "".join(rng.choice(words) + (" " if rng.random() < 0.75 else "") for _ in range(rng.randint(1, 70)))
    prefix = rng.choice(["", "", "- [ ] FAIL: ", "### FAIL: ", "Tracer: ", "1. **x** "])
    value = prefix + text
    shape = n % 3
    if shape == 0:
        mapping = {"summary": value}
    elif shape == 1:
        mapping = {"not_helpful": [{"id": "n-001", "details": value, "evidence_refs": ["e-001"]}]}
    else:
        mapping = {"policy_source": {"enabled": "<default>", "permissions.write_record": value}}
    cases.append({"mapping": mapping, "yaml": serialize_mapping(mapping, width=120).decode()})
json.dump(cases, sys.stdout if len(sys.argv) < 2 else open(sys.argv[1], "w"), ensure_ascii=False, indent=1)
