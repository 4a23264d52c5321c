#!/usr/bin/env python3
"""Compare goliath's composed supergraphs with Apollo's, suite by suite.

For each suite of a running Federation Gateway Audit server, fetch the
subgraphs (`$AUDIT_URL/<suite>/subgraphs`) and Apollo's supergraph
(`$AUDIT_URL/<suite>/supergraph`), compose the subgraphs with
`goliath compose`, normalise both SDLs and print a unified diff.

Normalised: descriptions dropped, definitions sorted by name, and inside a
definition its directives and its fields/values sorted (order carries no
meaning in SDL), whitespace collapsed.

usage: compare-supergraphs.py [--audit-url URL] [--goliath BIN] [SUITE...]
Exit status: 0 when every suite is identical after normalisation, 1 otherwise.
"""

import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def fetch(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode()


def strip_descriptions(sdl):
    sdl = re.sub(r'"""(?:[^"\\]|\\.|"(?!""))*"""', "", sdl)
    # one-line "description" strings on their own line
    sdl = re.sub(r'(?m)^\s*"(?:[^"\\]|\\.)*"\s*$', "", sdl)
    return sdl


def definitions(sdl):
    """Splits an SDL into top-level definitions (brace/paren aware)."""
    defs, cur, depth, in_str = [], [], 0, False
    i = 0
    while i < len(sdl):
        c = sdl[i]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(sdl[i + 1])
                i += 1
            elif c == '"':
                in_str = False
        elif c == '"':
            in_str = True
            cur.append(c)
        elif c in "{(":
            depth += 1
            cur.append(c)
        elif c in "})":
            depth -= 1
            cur.append(c)
        elif c == "\n" and depth == 0 and sdl[i + 1 : i + 2] == "\n":
            text = "".join(cur).strip()
            if text:
                defs.append(text)
            cur = []
        else:
            cur.append(c)
        i += 1
    text = "".join(cur).strip()
    if text:
        defs.append(text)
    return defs


def split_top(text, sep_pattern):
    """Splits on a regex at nesting depth 0, outside strings."""
    parts, cur, depth, in_str, i = [], [], 0, False, 0
    while i < len(text):
        c = text[i]
        if in_str:
            cur.append(c)
            if c == "\\":
                cur.append(text[i + 1])
                i += 1
            elif c == '"':
                in_str = False
            i += 1
            continue
        if c == '"':
            in_str = True
        elif c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        if depth == 0:
            m = re.match(sep_pattern, text[i:])
            if m and cur:
                parts.append("".join(cur))
                cur = []
                i += len(m.group(0))
                continue
        cur.append(c)
        i += 1
    if cur:
        parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def normalise_definition(d):
    d = re.sub(r"\s+", " ", d).strip()
    body = ""
    m = re.search(r"\{(.*)\}$", d)
    head = d
    if m and not d.startswith("directive") and not d.startswith("union"):
        # the body braces of a type (not argument lists)
        depth, start = 0, None
        for i, c in enumerate(d):
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
            elif c == "{" and depth == 0:
                start = i
                break
        if start is not None:
            head, body = d[:start].strip(), d[start + 1 : -1].strip()
    union_members = ""
    if d.startswith("union") and " = " in d:
        head, union_members = d.rsplit(" = ", 1)
        union_members = " | ".join(sorted(m.strip() for m in union_members.split("|")))
    head_parts = split_top(head, r"\s+@")
    head_text = head_parts[0] + "".join(
        "\n  @" + p for p in sorted(p.lstrip("@") for p in head_parts[1:])
    )
    lines = [head_text]
    if union_members:
        lines.append(" = " + union_members)
    if body:
        items = split_top(body, r"\s+(?=[_A-Za-z][_A-Za-z0-9]*\s*[(:]|[_A-Z][_A-Z0-9]*(\s|$))")
        fields = []
        for item in items:
            parts = split_top(item, r"\s+@")
            fields.append(parts[0] + "".join(" @" + p for p in sorted(x.lstrip("@") for x in parts[1:])))
        lines.append("{")
        lines.extend("  " + f for f in sorted(fields))
        lines.append("}")
    return "\n".join(lines)


def normalise(sdl):
    defs = [normalise_definition(d) for d in definitions(strip_descriptions(sdl))]

    def key(d):
        m = re.match(r"(?:extend\s+)?(\w+)\s+@?(\w+)", d)
        return (m.group(1) if m else "", (m.group(2) if m else d).lower(), d)

    return "\n\n".join(sorted(defs, key=key)) + "\n"


def compose(goliath, subgraphs):
    with tempfile.TemporaryDirectory() as tmp:
        lines = ["subgraphs:"]
        for s in subgraphs:
            path = os.path.join(tmp, s["name"] + ".graphql")
            with open(path, "w") as f:
                f.write(s["sdl"])
            lines.append(f"  {json.dumps(s['name'])}:")
            lines.append(f"    routing_url: {json.dumps(s['url'])}")
            lines.append(f"    schema:\n      file: {json.dumps(s['name'] + '.graphql')}")
        config = os.path.join(tmp, "supergraph.yaml")
        with open(config, "w") as f:
            f.write("\n".join(lines) + "\n")
        out = os.path.join(tmp, "supergraph.graphql")
        r = subprocess.run(
            [goliath, "compose", "--config", config, "--output", out],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            return None, r.stderr
        with open(out) as f:
            return f.read(), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--audit-url", default=os.environ.get("AUDIT_URL", "http://localhost:4200"))
    ap.add_argument("--goliath", default=os.path.join(HERE, "..", "target", "debug", "goliath"))
    ap.add_argument("--quiet", action="store_true", help="print only the summary lines")
    ap.add_argument("suites", nargs="*")
    args = ap.parse_args()
    suites = args.suites
    if not suites:
        index = fetch(args.audit_url + "/ids")
        suites = json.loads(index)
    same = exact = 0
    for suite in suites:
        subgraphs = json.loads(fetch(f"{args.audit_url}/{suite}/subgraphs"))
        apollo = fetch(f"{args.audit_url}/{suite}/supergraph")
        ours, err = compose(args.goliath, subgraphs)
        if ours is None:
            print(f"{suite}: goliath compose FAILED\n{err}")
            continue
        if ours == apollo:
            same += 1
            exact += 1
            print(f"{suite}: byte-identical")
            continue
        a, b = normalise(apollo), normalise(ours)
        if a == b:
            same += 1
            print(f"{suite}: identical after normalisation")
            continue
        diff = list(difflib.unified_diff(a.splitlines(), b.splitlines(), "apollo", "goliath", lineterm="", n=2))
        print(f"{suite}: {sum(1 for l in diff if l[:1] in '+-' and l[:3] not in ('+++', '---'))} lines differ")
        if not args.quiet:
            print("\n".join(diff))
    print(f"compare-supergraphs: {same} of {len(suites)} suites identical ({exact} byte for byte)")
    return 0 if same == len(suites) else 1


if __name__ == "__main__":
    sys.exit(main())
