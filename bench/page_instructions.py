"""Instructions per request of one page, counted by valgrind: a figure that the machine's
load does not move, to tell two commits apart on a shared machine.

    .venv/bin/python bench/page_instructions.py --reuse NAME --url /history/ [--htmx | --results]
        [CHECKOUT …]

For each checkout (default: this one), it runs that checkout's bench/page_cpu.py under
`valgrind --tool=callgrind` twice, with 5 and with 25 requests after the same warm-up, and
prints the difference over 20: the web process's instructions per request (the database's
and Redis's own work is in their processes, not counted). The same commit gives the same
count within about 0.2 %; CPU milliseconds on this shared machine drift by a third. A run
takes about a minute and a half per checkout: valgrind runs Python some 40 times slower.
Compare checkouts made with `git worktree add`; each uses this script's virtualenv.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from page_cpu import add_page_arguments

ROOT = Path(__file__).resolve().parent.parent
TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)
FEW, MANY = 5, 25


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_page_arguments(parser)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/12", help="the cache and sessions' Redis")
    parser.add_argument("checkouts", nargs="*", type=Path, default=[ROOT])
    return parser.parse_args()


def instructions(checkout: Path, args: argparse.Namespace, requests: int) -> int:
    with tempfile.TemporaryDirectory() as out:
        counts = Path(out) / "callgrind.out"
        command = [
            *("valgrind", "--tool=callgrind", f"--callgrind-out-file={counts}", "-q"),
            *(sys.executable, str(checkout / "bench" / "page_cpu.py"), "--reuse", args.reuse, "--url", args.url),
            *("--redis", args.redis, "--requests", str(requests)),
            *(["--htmx"] if args.htmx else ["--results"] if args.results else []),
        ]
        # The same hash seed each run: a dict's layout must not change the count.
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        subprocess.run(command, check=True, capture_output=True, env=env)  # noqa: S603 (our own script)
        return int(TOTAL.search(counts.read_text()).group(1))


def main() -> None:
    args = parse_args()
    for checkout in args.checkouts:
        per_request = (instructions(checkout, args, MANY) - instructions(checkout, args, FEW)) / (MANY - FEW)
        print(f"{checkout}: {args.url}{' (htmx)' if args.htmx else ' (results)' if args.results else ''}: "
              f"{per_request / 1e6:.1f} M instructions per request")  # fmt: skip


if __name__ == "__main__":
    main()
