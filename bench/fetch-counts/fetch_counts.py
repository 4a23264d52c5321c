#!/usr/bin/env python3
"""Subgraph requests and waves per query, goliath vs Hive Router (see README.md).

For each audit suite (and the gateway benchmark's query): rewrite the
supergraph's subgraph URLs to the counting proxy, start one gateway, send each
test query, read what the proxy saw, stop the gateway; then the other gateway.
Python 3 stdlib only.
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proxy  # noqa: E402

JOIN_GRAPH = re.compile(r'(@join__graph\(name: "[^"]*", url: ")([^"]*)(")')


def http(url, body=None, headers=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def rewrite(sdl, proxy_port):
    def sub(m):
        u = urllib.parse.urlsplit(m.group(2))
        return f"{m.group(1)}http://127.0.0.1:{proxy_port}/fwd/{u.netloc}{u.path or '/'}{m.group(3)}"

    return JOIN_GRAPH.sub(sub, sdl)


class Gateway:
    """One gateway process serving one supergraph."""

    def __init__(self, kind, binary, supergraph, port, workdir):
        self.kind, self.port = kind, port
        self.url = f"http://127.0.0.1:{port}/graphql"
        env = {k: v for k, v in os.environ.items() if k not in ("HOST", "PORT", "LOG_LEVEL", "LOG_FILTER", "RUST_LOG")}
        log = open(os.path.join(workdir, f"{kind}.log"), "ab")
        if kind == "goliath":
            cmd = [binary, "router", "--supergraph", supergraph, "--listen", f"127.0.0.1:{port}"]
        else:
            config = os.path.join(workdir, "hive-router.config.yaml")
            with open(config, "w") as f:
                f.write(
                    "supergraph:\n  source: file\n  path: %s\n"
                    "http:\n  host: 127.0.0.1\n  port: %d\n  graphql_endpoint: /graphql\n"
                    "log:\n  level: error\n"
                    "traffic_shaping:\n  all:\n    dedupe_enabled: false\n" % (json.dumps(supergraph), port)
                )
            env["ROUTER_CONFIG_FILE_PATH"] = config
            cmd = [binary]
        self.proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=log, stderr=log,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.time() + 60
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{kind} exited with {self.proc.returncode} (log {log.name})")
            try:
                status, _ = http(self.url, {"query": "{ __typename }"}, timeout=2)
                if status == 200:
                    return
            except OSError:
                pass
            if time.time() > deadline:
                self.stop()
                raise RuntimeError(f"{kind} not ready after 60 s (log {log.name})")
            time.sleep(0.1)

    def stop(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def measure(gw, prx, query, window_ms, settle_s):
    prx.log.reset()
    t0 = time.monotonic()
    status, body = http(gw.url, {"query": query}, headers={"Accept": "application/json"}, timeout=60)
    elapsed = time.monotonic() - t0
    # Let any request still in flight (or sent after the answer) show up.
    time.sleep(settle_s)
    for _ in range(100):
        records, in_flight = prx.log.snapshot()
        if in_flight == 0:
            break
        time.sleep(0.05)
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {"errors": [{"message": f"HTTP {status}: {body[:200]!r}"}]}
    return {
        "requests": len(records),
        "waves": proxy.waves(records, window_ms),
        "status": status,
        "ms": round(elapsed * 1000),
        "answer": answer,
        "log": [{"t_ms": round((r["t"] - t0) * 1000, 1), "path": r["path"], "body": r["body"][:400]} for r in records],
    }


def matches(answer, expected):
    """The audit's own check (src/test.ts): data deep-equal (missing = null); errors
    only checked when the test gives a boolean."""
    if answer.get("data") != expected.get("data"):
        return False
    if isinstance(expected.get("errors"), bool):
        return bool(answer.get("errors")) == expected["errors"]
    return True


def run_cases(args, prx, cases_for, supergraph_sdl, label, workdir):
    """cases_for(kind) -> [(name, query, expected-or-None)]; returns {name: {kind: result}}."""
    path = os.path.join(workdir, f"{label}.graphql")
    with open(path, "w") as f:
        f.write(rewrite(supergraph_sdl, args.proxy_port))
    out = {}
    for kind, binary, port in (("goliath", args.goliath, args.goliath_port), ("hive", args.hive, args.hive_port)):
        cases = cases_for(kind)
        try:
            gw = Gateway(kind, binary, path, port, workdir)
        except RuntimeError as e:
            print(f"  {label}: {e}", file=sys.stderr)
            for name, _, _ in cases:
                out.setdefault(name, {})[kind] = {"requests": None, "waves": None, "error": str(e)}
            continue
        try:
            for name, query, expected in cases:
                r = measure(gw, prx, query, args.window_ms, args.settle_ms / 1000.0)
                r["query"] = query
                r["correct"] = None if expected is None else matches(r["answer"], expected)
                out.setdefault(name, {})[kind] = r
        finally:
            gw.stop()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--goliath", required=True)
    ap.add_argument("--hive", required=True)
    ap.add_argument("--audit-url", help="the audit server, e.g. http://127.0.0.1:4610")
    ap.add_argument("--suites", help="comma-separated suite ids (default: all)")
    ap.add_argument("--bench-dir", help="folder with supergraph.graphql and query.json")
    ap.add_argument("--bench-subgraphs", help="host:port of the running benchmark subgraphs")
    ap.add_argument("--proxy-port", type=int, default=4603)
    ap.add_argument("--goliath-port", type=int, default=4601)
    ap.add_argument("--hive-port", type=int, default=4602)
    ap.add_argument("--delay-ms", type=float, default=40)
    ap.add_argument("--window-ms", type=float, default=20)
    ap.add_argument("--settle-ms", type=float, default=100)
    ap.add_argument("--out", default="fetch-counts-report.md")
    ap.add_argument("--json", help="also write every result (with the proxy's log) here")
    args = ap.parse_args()

    prx = proxy.start(args.proxy_port, args.delay_ms)
    workdir = tempfile.mkdtemp(prefix="fetch-counts.")
    results = []  # (suite, test, {kind: result})

    if args.audit_url:
        base = args.audit_url.rstrip("/")
        ids = json.loads(http(base + "/ids")[1])
        if args.suites:
            ids = [i for i in ids if i in args.suites.split(",")]
        for sid in ids:
            status, sdl = http(f"{base}/{sid}/supergraph")
            if status != 200:
                print(f"{sid}: no supergraph (HTTP {status})", file=sys.stderr)
                continue

            def cases_for(kind, sid=sid):
                # Fetched per gateway: `mutations` draws a fresh request id each time.
                tests = json.loads(http(f"{base}/{sid}/tests", headers={"Accept": "application/json"})[1])
                return [(str(i + 1), t["query"], t["expected"]) for i, t in enumerate(tests)]

            print(f"{sid} ...", file=sys.stderr, flush=True)
            by_test = run_cases(args, prx, cases_for, sdl.decode(), sid, workdir)
            for name in sorted(by_test, key=int):
                results.append((sid, name, by_test[name]))

    if args.bench_dir and args.bench_subgraphs:
        with open(os.path.join(args.bench_dir, "supergraph.graphql")) as f:
            sdl = f.read()
        sdl = JOIN_GRAPH.sub(lambda m: m.group(1) + re.sub(r"//[^/]+", "//" + args.bench_subgraphs, m.group(2), count=1) + m.group(3), sdl)
        with open(os.path.join(args.bench_dir, "query.json")) as f:
            query = json.load(f)["query"]
        print("benchmark ...", file=sys.stderr, flush=True)
        by_test = run_cases(args, prx, lambda kind: [("query.json", query, None)], sdl, "benchmark", workdir)
        # No expected answer: the two gateways' data are compared with each other.
        r = by_test["query.json"]
        same = r["goliath"].get("answer", {}).get("data") == r["hive"].get("answer", {}).get("data")
        for k in r:
            r[k]["correct"] = same if r[k].get("answer") else None
        results.append(("benchmark", "query.json", r))

    write_report(args, results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{"suite": s, "test": t, **{k: {kk: vv for kk, vv in v.items() if kk != "answer"} for k, v in r.items()}}
                       for s, t, r in results], f, indent=1)
    prx.shutdown()


def fmt(r):
    if r.get("requests") is None:
        return "—"
    return f"{r['requests']} / {r['waves']}"


def ok(r):
    c = r.get("correct")
    return "" if c is None else ("ok" if c else "**wrong**")


def write_report(args, results):
    tot = {"goliath": [0, 0], "hive": [0, 0]}
    worse, better, equal, incomplete = [], [], [], []
    rows = []
    for suite, test, r in results:
        g, h = r.get("goliath", {}), r.get("hive", {})
        if g.get("requests") is None or h.get("requests") is None:
            incomplete.append((suite, test))
        else:
            for k, x in (("goliath", g), ("hive", h)):
                tot[k][0] += x["requests"]
                tot[k][1] += x["waves"]
            more = g["requests"] > h["requests"] or g["waves"] > h["waves"]
            fewer = g["requests"] < h["requests"] or g["waves"] < h["waves"]
            (worse if more else better if fewer else equal).append((suite, test, g, h))
        rows.append(f"| {suite} | {test} | {fmt(g)} | {fmt(h)} | {ok(g)} | {ok(h)} |")

    n = len(results)
    lines = [
        "# Subgraph requests and waves: goliath vs Hive Router 0.3.10",
        "",
        f"Proxy delay {args.delay_ms:g} ms per subgraph request; a new wave starts when a request arrives "
        f"more than {args.window_ms:g} ms after the previous one. `req / waves` per query.",
        "",
        "## Summary",
        "",
        f"- queries: {n} ({len(incomplete)} not measured on both gateways)",
        f"- total requests: goliath **{tot['goliath'][0]}**, Hive Router **{tot['hive'][0]}**",
        f"- total waves: goliath **{tot['goliath'][1]}**, Hive Router **{tot['hive'][1]}**",
        f"- goliath worse (more requests or more waves): **{len(worse)}**; better (fewer of either, more of neither): "
        f"**{len(better)}**; equal: **{len(equal)}**",
        "",
    ]
    wrong = [(s, t, k) for s, t, r in results for k in ("goliath", "hive") if r.get(k, {}).get("correct") is False]
    if wrong:
        lines.append("- answers differing from the expected data: " + ", ".join(f"{k} {s} #{t}" for s, t, k in wrong))
        lines.append("")

    def listing(title, items):
        lines.extend([f"## {title} ({len(items)})", ""])
        if not items:
            lines.append("(none)")
        for s, t, g, h in items:
            lines.append(f"- {s} #{t}: goliath {fmt(g)}, Hive Router {fmt(h)}")
        lines.append("")

    listing("goliath worse than Hive Router", worse)
    listing("goliath better than Hive Router", better)
    if incomplete:
        lines.extend(["## Not measured", ""] + [f"- {s} #{t}" for s, t in incomplete] + [""])
    lines.extend([
        "## Per query",
        "",
        "| suite | test | goliath req / waves | hive req / waves | goliath answer | hive answer |",
        "|---|---|---|---|---|---|",
        *rows,
        f"| **total** | | **{tot['goliath'][0]} / {tot['goliath'][1]}** | **{tot['hive'][0]} / {tot['hive'][1]}** | | |",
        "",
    ])
    with open(args.out, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines[:12]))
    print(f"report: {args.out}")


if __name__ == "__main__":
    main()
