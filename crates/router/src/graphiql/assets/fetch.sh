#!/bin/sh
# Re-downloads the vendored GraphiQL, React and ReactDOM builds from npm
# (versions pinned below; README.md in this folder names them and their
# licenses) and checks them against the recorded SHA-256 sums.
#
#   crates/router/src/graphiql/assets/fetch.sh
#
# Needs npm, tar and sha256sum. To upgrade: change the versions, run with
# UPDATE=1 to accept and print the new sums, and update README.md.
set -eu

GRAPHIQL=3.9.0
REACT=18.3.1
REACT_DOM=18.3.1

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cd "$work"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT_DOM" >/dev/null
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT_DOM"; do
    mkdir "$package"
    tar -xzf "$package.tgz" -C "$package"
done
cp "graphiql-$GRAPHIQL/package/graphiql.min.js" \
   "graphiql-$GRAPHIQL/package/graphiql.min.css" \
   "react-$REACT/package/umd/react.production.min.js" \
   "react-dom-$REACT_DOM/package/umd/react-dom.production.min.js" \
   "$here/"

cd "$here"
if [ "${UPDATE:-}" = 1 ]; then
    sha256sum graphiql.min.js graphiql.min.css react.production.min.js \
        react-dom.production.min.js
else
    sha256sum -c <<'SUMS'
a330a2be1d2389486840a9d0a834767d9083a23f105879e0de54e4fce83d3513  graphiql.min.js
bdddd50aac5bdb0edd83e5c862ba2fed9db2964e4c75d4655ab62b0a7d5bd730  graphiql.min.css
d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd  react.production.min.js
35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d  react-dom.production.min.js
SUMS
fi
