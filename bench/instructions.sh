#!/bin/sh
# Instructions per order of the core benchmark, counted by valgrind (callgrind): unlike CPU
# time, the count does not move with what else the machine runs, so two versions of the code
# compare in one run each. It is the difference between two sizes of
# `python -m bench --quick --only core` (setup cancels out), per order: the pass and the pure
# steps of its bound together. Usage: bench/instructions.sh [SMALL [LARGE]] (default 100 600).
# Takes about two minutes per 250 orders. Needs valgrind (Debian: apt install valgrind).
set -eu
small=${1:-100}
large=${2:-600}
python=${PYTHON:-.venv/bin/python}
count() {
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$python" -m bench --quick \
        --only core --orders "$1" --output /dev/null 2>&1 |
        sed -n 's/^==[0-9]*== Collected : \([0-9]*\)$/\1/p'
}
a=$(count "$small")
b=$(count "$large")
echo "$(( (b - a) / (large - small) )) instructions per order (callgrind, $small and $large orders)"
