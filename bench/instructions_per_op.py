#!/usr/bin/env python3
"""Instructions per operation of one corio_bench benchmark, counted by callgrind.

Timings on these machines swing by 20% from run to run; instruction counts do
not, so a before/after comparison of a small change is made with this script
(docs/benchmarks.md quotes it). Google Benchmark does not say how many
iterations it ran in all (it runs 1, 10, 100, ... before the timed run), so
the count comes from callgrind itself: the number of calls to a function that
runs a known number of times per operation (--callee, --calls-per-op).

    instructions_per_op.py build-bench/bench/corio_bench '^co_await_trivial_task$' \\
        --callee 'co_await_trivial_loop(benchmark::State&) [clone .resume]'

The instructions of a run with no benchmark (start-up, the library's
registration) are subtracted. Needs valgrind (`apt-get install valgrind`).
"""
import argparse
import re
import subprocess
import sys
import tempfile


def callgrind(binary, benchmark_filter, out):
    err = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary,
         f"--benchmark_filter={benchmark_filter}", "--benchmark_min_time=0.2"],
        capture_output=True, text=True, check=True).stderr
    m = re.search(r"Collected : (\d+)", err)
    if not m:
        sys.exit(f"instructions_per_op: no instruction total in valgrind's output for {benchmark_filter}")
    return int(m.group(1))


def calls_to(profile, callee):
    """Sums the `calls=` lines of every call edge whose callee's name contains `callee`."""
    names, current, calls = {}, None, 0
    with open(profile) as f:
        for line in f:
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?", line)
            if m:
                if m.group(2):
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    current = names.get(m.group(1), "")
                continue
            m = re.match(r"calls=(\d+)", line)
            if m and current is not None and callee in current:
                calls += int(m.group(1))
    return calls


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("filter", help="--benchmark_filter of the one benchmark to count")
    ap.add_argument("--callee", required=True, help="part of the name of a function called a known number of times per op")
    ap.add_argument("--calls-per-op", type=float, default=1.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = callgrind(args.binary, "^$no benchmark", f"{tmp}/base.out")
        total = callgrind(args.binary, args.filter, f"{tmp}/run.out")
        calls = calls_to(f"{tmp}/run.out", args.callee)
    if calls == 0:
        sys.exit(f"instructions_per_op: no call to a function named like {args.callee!r} in {args.filter}")
    ops = calls / args.calls_per_op
    print(f"{args.filter}: {(total - base) / ops:.0f} instructions per op over {ops:.0f} ops")


if __name__ == "__main__":
    main()
