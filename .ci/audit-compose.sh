#!/bin/sh
# Run script for the Federation Gateway Audit (compose mode): fetch the
# suite's subgraph SDLs, compose them with `goliath compose` and serve the
# result with goliath. Called by ../shared/fed-audit/run with the suite id as
# $1 (and AUDIT_URL in the environment).
set -e
here=$(cd "$(dirname "$0")" && pwd)
bin=${GOLIATH_BIN:-$here/../target/debug/goliath}
dir="${TMPDIR:-/tmp}/goliath-audit-compose-$1"
rm -rf "$dir"
mkdir -p "$dir"
curl -fsS "$AUDIT_URL/$1/subgraphs" -o "$dir/subgraphs.json"
python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
subgraphs = json.load(open(os.path.join(d, "subgraphs.json")))
lines = ["federation_version: 2", "subgraphs:"]
for s in subgraphs:
    path = "subgraph-%d.graphql" % len(lines)
    with open(os.path.join(d, path), "w") as f:
        f.write(s["sdl"])
    lines += ["  %s:" % json.dumps(s["name"]),
              "    routing_url: %s" % json.dumps(s["url"]),
              "    schema:",
              "      file: %s" % json.dumps(path)]
with open(os.path.join(d, "supergraph.yaml"), "w") as f:
    f.write("\n".join(lines) + "\n")
PY
"$bin" compose --config "$dir/supergraph.yaml" --output "$dir/supergraph.graphql"
exec "$bin" router --supergraph "$dir/supergraph.graphql" --listen 127.0.0.1:4000
