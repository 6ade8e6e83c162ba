#!/usr/bin/env python3
"""Where one exchange's CPU goes, thread by thread: the shipped trace-sidecar (each of its
threads by name) or nginx `proxy_pass` (each worker process), on the peers' setup (the same
upstream nginx, config, form POST and pinning as bench/peers/run.sh), under wrk -c50.

    bench/peers/thread_split.py [--nginx] [--threads 1|2] [--secs 10] [--binary PATH]

Prints, per thread (or process), user and system time in µs per request, voluntary and
involuntary context switches and minor page faults per request, counted from an idle start
until the process is idle again after the load, as the peers' efficiency is. One run is one
sample on a shared machine: compare contenders run back to back, several times.
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench as B  # noqa: E402

TICK_US = 1e6 / B.CLK_TCK


def sample(stat_dir: str) -> tuple[str, int, int, int, int, int]:
    """(name, user ticks, system ticks, voluntary, involuntary switches, minor faults)."""
    with open(f"{stat_dir}/comm") as f:
        name = f.read().strip()
    fields = B.stat_fields(stat_dir)
    with open(f"{stat_dir}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return (name, int(fields[11]), int(fields[12]), int(status["voluntary_ctxt_switches"]),
            int(status["nonvoluntary_ctxt_switches"]), int(fields[7]))


def samples(pids: list[int], by_thread: bool) -> dict[str, tuple]:
    out = {}
    for pid in pids:
        dirs = ([f"/proc/{pid}/task/{t}" for t in os.listdir(f"/proc/{pid}/task")]
                if by_thread else [f"/proc/{pid}"])
        for d in dirs:
            try:
                out[d] = sample(d)
            except (FileNotFoundError, ProcessLookupError):
                pass  # a thread that ended meanwhile
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nginx", action="store_true", help="measure nginx proxy_pass instead")
    ap.add_argument("--threads", type=int, default=1, choices=(1, 2))
    ap.add_argument("--secs", type=float, default=10)
    ap.add_argument("--binary", default=str(B.ROOT / "build" / "release" / "trace-sidecar"))
    args = ap.parse_args()
    cpus = "1" if args.threads == 1 else "0,1"  # as bench/peers/run.sh pins them
    work = Path(tempfile.mkdtemp(prefix="thread-split."))
    upstream, env = B.start_upstream(work / "upstream", "0", big=False)
    inst = None
    try:
        c = (B.NginxProxy(args.threads, cpus) if args.nginx
             else B.TraceSidecar(args.threads, cpus, Path(args.binary)))
        (work / "proxy").mkdir()
        inst = c.start(env, work / "proxy")
        B.run_wrk(inst.url, 50, 2, env.load_cpus)  # warm-up
        pids = inst.pids()
        B.wait_idle(pids)
        before = samples(pids, not args.nginx)
        sat = B.run_wrk(inst.url, 50, args.secs, env.load_cpus)
        B.wait_idle(pids)
        after = samples(pids, not args.nginx)
        n = sat["requests"]
        print(f"{c.label}: {n} requests, {sat['rps']:.0f}/s")
        total = 0.0
        for key, (name, user, system, vol, invol, faults) in sorted(after.items()):
            _, user0, system0, vol0, invol0, faults0 = before.get(key, (name, 0, 0, 0, 0, 0))
            u, s = (user - user0) * TICK_US / n, (system - system0) * TICK_US / n
            total += u + s
            if u + s > 0.05:
                print(f"  {name:16} user {u:6.2f}  sys {s:6.2f} µs/request  switches "
                      f"{(vol - vol0) / n:5.2f} + {(invol - invol0) / n:5.2f}  faults "
                      f"{(faults - faults0) / n:6.3f}")
        print(f"  total {total:.2f} µs/request: {1e6 / total:.0f} requests per CPU-second")
    finally:
        if inst and inst.proc:
            B.stop(inst.proc)
        B.stop(upstream)


if __name__ == "__main__":
    main()
