"""What the benchmark drivers (compare.py, compare_files.py, compare_net.py)
share: machine facts from the shell, the load average, plain-text tables for
the terminal, and the notes kept between markers in docs/benchmarks.md."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sh(cmd):
    """A shell command's stdout, run from the repository root; "?" if it fails."""
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20, cwd=ROOT).stdout.strip()
    except Exception:  # noqa: BLE001 - machine facts are best effort
        return "?"


def load():
    """The 1, 5 and 15 minute load averages, as /proc/loadavg gives them."""
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def text_table(header, rows):
    """Columns padded to their widest cell, a dashed line under the header."""
    all_rows = [header] + rows
    widths = [max(len(r[i]) for r in all_rows) for i in range(len(header))]
    out = []
    for n, r in enumerate(all_rows):
        out.append("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def kept_notes(text, begin, end):
    """What stands between the markers `begin` and `end` in `text`, or None."""
    if text:
        i, j = text.find(begin), text.find(end)
        if 0 <= i < j:
            return text[i + len(begin):j].strip("\n")
    return None
