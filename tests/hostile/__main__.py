"""Run the corpus without pytest: ``python -m tests.hostile [-k TEXT] [-j N] [--json FILE] [-v]``.

Prints each failing case on one line (all cases with -v), then the pass count per
group and the slowest cases; exits 1 if any case failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter

from .corpus import all_cases
from .run import run_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile", description=__doc__.splitlines()[0])
    parser.add_argument(
        "-k", action="append", default=[], metavar="TEXT", help="only cases whose id contains TEXT (repeatable)"
    )
    parser.add_argument("-j", "--jobs", type=int, help="cases at once (default: CPU count)")
    parser.add_argument("--json", metavar="FILE", help="write every result (id, seconds, exit, problems, output) here")
    parser.add_argument("-v", "--verbose", action="store_true", help="print passing cases too")
    args = parser.parse_args(argv)

    cases = [c for c in all_cases() if not args.k or any(k in c.id for k in args.k)]
    start = time.monotonic()

    def show(result) -> None:
        if args.verbose or not result.passed:
            print(result.line(), flush=True)

    results = run_all(cases, args.jobs, on_result=show)
    wall = time.monotonic() - start
    passed, total = Counter(), Counter()
    for result in results:
        total[result.case.group] += 1
        passed[result.case.group] += result.passed
    cpu = sum(r.cpu for r in results)
    print(
        f"\n{sum(passed.values())}/{len(results)} passed in {wall:.0f} s ({cpu:.0f} CPU s: about {cpu / 2:.0f} s on two idle cores)"
    )
    for group in total:
        print(f"  {group:12} {passed[group]:4}/{total[group]}")
    print("slowest:")
    for result in sorted(results, key=lambda r: -r.seconds)[:10]:
        print(f"  {result.seconds:5.1f} s  {result.case.id}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                [
                    {
                        "id": r.case.id,
                        "seconds": round(r.seconds, 2),
                        "cpu": round(r.cpu, 2),
                        "exit": r.returncode,
                        "passed": r.passed,
                        "problems": r.problems,
                        "stderr": r.stderr[:2000],
                        "stdout": r.stdout[:2000],
                    }
                    for r in results
                ],
                out,
                indent=1,
            )
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
