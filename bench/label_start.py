"""How long `cuttings label` takes to show its first story, on a pseudo-terminal.

Runs ``cuttings label ARGS`` with the code of ``--code`` (a checkout: the current one by default;
``git archive REV | tar -x -C DIR`` for an older one) on a pseudo-terminal, times it from the start to
the first card's key prompt, then types ``s`` ``--skips`` times (skipping writes nothing) and ``q``, each
key once the program waits for one. Prints the seconds to the first card and the article ids shown
(so two checkouts can be checked to show the same stories in the same order). ``--repeat N``
alternates the checkouts N times.

    git archive db85bbb | tar -x -C /tmp/old
    python bench/label_start.py --code /tmp/old --code . --repeat 3 -- --db COPY.db label --annotator x
"""
from __future__ import annotations

import argparse
import os
import re
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
LAUNCH = "import pipeline; pipeline.cli(prog_name='cuttings')"


def first_card(code: Path, args: list[str], skips: int = 0, timeout: float = 180) -> tuple[float | None, list[str], int]:
    """(seconds to the first card's prompt, article ids shown, exit code) of one run."""
    master, slave = os.openpty()
    env = {**os.environ, "COLUMNS": "100", "LINES": "50", "TERM": "xterm", "PYTHONPATH": str(code)}
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", LAUNCH, *args], stdin=slave, stdout=slave, stderr=slave,
                               cwd=code, env=env, start_new_session=True)
    os.close(slave)
    out, first, pressed = b"", None, 0
    while time.perf_counter() - start < timeout:
        ready, _, _ = select.select([master], [], [], 0.02)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        prompts = ANSI.sub(b"", out).count(b"q quit")
        if prompts and first is None:
            first = time.perf_counter() - start
        if prompts > pressed and not termios.tcgetattr(master)[3] & termios.ICANON:   # waiting for a key
            os.write(master, b"s" if pressed < skips else b"q")
            pressed += 1
        if process.poll() is not None and not ready:
            break
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    os.close(master)
    shown = re.findall(r"article (\d+) \(\d+ of \d+\)", ANSI.sub(b"", out).decode(errors="replace"))
    return first, shown, process.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", action="append", type=Path, help="a checkout to run (repeatable; default: this one)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--skips", type=int, default=0, help="stories to skip before quitting")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="-- then cuttings' arguments")
    options = parser.parse_args()
    args = options.args[1:] if options.args[:1] == ["--"] else options.args
    codes = options.code or [Path(__file__).resolve().parent.parent]
    for _ in range(options.repeat):
        for code in codes:
            load = open("/proc/loadavg").read().split()[:3] if os.path.exists("/proc/loadavg") else []
            seconds, shown, code_exit = first_card(code.resolve(), args, options.skips)
            shown_text = " ".join(shown)
            print(f"{code}: first card {'never' if seconds is None else f'{seconds:.2f} s'}, shown {shown_text}, "
                  f"exit {code_exit}, load {' '.join(load)}", flush=True)


if __name__ == "__main__":
    main()
