#!/usr/bin/env python3
"""The one-connection p50 of trace-sidecar and nginx over many fresh instances, side by side.

The peers' run (bench.py) measures each proxy's p50 at one connection in 3 rounds, half a
minute or more apart from its peer's. On this 2-core VM a round's p50 moves by a third with where the
scheduler puts the thread holding the connection and with the host (bench/README.md,
"Pinning, and its compromise"); 3 rounds give a median of that lottery. This script takes many
more rounds of just that phase, alternating the two proxies, each instance in the state the
peers' run measures it in (a warm-up, a saturation, idle again), and prints per round: the
p50 of each slice, the CPU of the thread holding the connection per exchange, and the share
of samples that found it on each CPU; then both proxies' medians over all slices and the
median of the per-round ratios.

Usage: bench/peers/one_connection.py [--rounds 8] [--slices 2] [--secs 3] [--threads 2]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import bench as B


def measure(contender: B.Contender, env: B.Env, workdir: Path, slices: int,
            secs: float) -> list[dict]:
    """One fresh instance: warm-up 2 s and saturation 5 s at 50 connections, idle, then
    `slices` one-connection phases of `secs` each."""
    inst = contender.start(env, workdir)
    try:
        time.sleep(0.3)
        B.run_wrk(inst.url, 50, 2, env.load_cpus)
        pids = inst.pids()
        B.wait_idle(pids)
        B.run_wrk(inst.url, 50, 5, env.load_cpus)
        B.wait_idle(pids)
        out = []
        for _ in range(slices):
            with B.PlacementSampler(pids) as placement:
                c1 = B.run_wrk(inst.url, 1, secs, env.load_cpus)
            threads = placement.summary()
            top = threads[0] if threads else {"cpu_ms": 0, "on": {}}
            exchanges = c1["requests"] or 1
            out.append({"p50_us": c1["p50_us"], "p99_us": c1["p99_us"], "rps": c1["rps"],
                        "thread_us": top["cpu_ms"] * 1000 / exchanges, "on": top["on"],
                        "threads": threads})
        return out
    finally:
        if inst.proc:
            B.stop(inst.proc)


def where(on: dict) -> str:
    return " ".join(f"{cpu}:{share:.0%}" for cpu, share in on.items())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=8, help="fresh instances of each proxy (8)")
    ap.add_argument("--slices", type=int, default=2, help="one-connection phases per instance")
    ap.add_argument("--secs", type=float, default=3, help="seconds of each phase (3)")
    ap.add_argument("--threads", type=int, default=2, help="worker threads of both proxies (2)")
    ap.add_argument("--sidecar", default=str(B.ROOT / "build" / "release" / "trace-sidecar"))
    ap.add_argument("--load-cpus", default="0", help="CPUs of wrk and the upstream (0)")
    ap.add_argument("--proxy-cpus", default="0,1", help="CPUs of both proxies (0,1)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sidecar-c1-"))
    contenders = [B.TraceSidecar(args.threads, args.proxy_cpus, Path(args.sidecar)),
                  B.NginxProxy(args.threads, args.proxy_cpus)]
    p50s: dict[str, list[float]] = {c.key: [] for c in contenders}
    ratios = []
    try:
        _, env = B.start_upstream(work / "upstream", args.load_cpus, big=False)
        print(f"{args.rounds} rounds, {args.slices} × {args.secs:g} s at one connection per "
              f"instance, {args.threads} thread{'s' if args.threads > 1 else ''}, load on CPUs "
              f"{args.load_cpus}, proxies on {args.proxy_cpus}\n")
        print("| round | proxy | p50 µs per slice | connection thread µs per exchange "
              "| its CPUs |")
        print("|---|---|---|---|---|")
        for rnd in range(args.rounds):
            order = contenders[rnd % 2:] + contenders[:rnd % 2]
            medians = {}
            for c in order:
                d = work / f"r{rnd}-{c.key}"
                d.mkdir()
                slices = measure(c, env, d, args.slices, args.secs)
                shutil.rmtree(d, ignore_errors=True)  # a sidecar's store after saturation: ~300 MB
                ps = [s["p50_us"] for s in slices]
                p50s[c.key] += ps
                medians[c.key] = statistics.median(ps)
                cells = [" / ".join(f"{p:.0f}" for p in ps),
                         " / ".join(f"{s['thread_us']:.1f}" for s in slices),
                         " / ".join(where(s["on"]) for s in slices)]
                print(f"| {rnd + 1} | {c.key} | " + " | ".join(cells) + " |", flush=True)
            ratios.append(medians[contenders[0].key] / medians[contenders[1].key])
        sidecar, nginx = (statistics.median(p50s[c.key]) for c in contenders)
        print(f"\nmedian p50 over all slices: {contenders[0].key} {sidecar:.0f} µs, "
              f"{contenders[1].key} {nginx:.0f} µs ({sidecar / nginx:.2f}×)")
        print("per-round ratios: " + ", ".join(f"{r:.2f}" for r in ratios) +
              f" (median {statistics.median(ratios):.2f}×)")
    finally:
        B.stop_all()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
