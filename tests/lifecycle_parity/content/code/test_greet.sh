#!/bin/sh
# Greeting tests (WP02)
set -e
here=$(dirname "$0")
out=$(sh "$here/../bin/greet" Ada)
[ "$out" = "Hello, Ada!" ] || { echo "named greeting failed: $out"; exit 1; }
out=$(sh "$here/../bin/greet")
[ "$out" = "Hello, world!" ] || { echo "default greeting failed: $out"; exit 1; }
echo "ok"
