#!/bin/sh
# Run script for the Federation Gateway Audit (supergraph mode): fetch the
# suite's supergraph (composed by Apollo) and serve it with goliath.
# Called by ../shared/fed-audit/run with the suite id as $1.
set -e
here=$(dirname "$0")
bin=${GOLIATH_BIN:-$here/../target/debug/goliath}
sg="${TMPDIR:-/tmp}/goliath-audit-$1.graphql"
curl -fsS "$AUDIT_URL/$1/supergraph" -o "$sg"
exec "$bin" router --supergraph "$sg" --listen 127.0.0.1:4000
