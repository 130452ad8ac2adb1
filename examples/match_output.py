#!/usr/bin/python3
"""match_output.py EXPECTED ACTUAL: exit 0 if ACTUAL's lines match EXPECTED's.

Lines must be equal, except that an expected line that is exactly `...`
matches any number of actual lines (zero or more), e.g. timing lines.
"""
import sys

ANY = "..."


def matches(expected, actual):
    """Wildcard match over lines, `...` acting like `*` in a glob."""
    i = j = 0
    star_i, star_j = -1, 0  # last `...` seen, and the actual line it resumes at
    while j < len(actual):
        if i < len(expected) and expected[i] == ANY:
            star_i, star_j = i, j
            i += 1
        elif i < len(expected) and expected[i] == actual[j]:
            i += 1
            j += 1
        elif star_i >= 0:  # let the last `...` swallow one more line
            star_j += 1
            i, j = star_i + 1, star_j
        else:
            return False
    while i < len(expected) and expected[i] == ANY:
        i += 1
    return i == len(expected)


def read_lines(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read().splitlines()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: match_output.py EXPECTED ACTUAL")
    sys.exit(0 if matches(read_lines(sys.argv[1]), read_lines(sys.argv[2])) else 1)
