"""The corpus's summary at the end of a pytest run: passes per group, the slowest cases."""

from __future__ import annotations

from collections import Counter


def pytest_terminal_summary(terminalreporter) -> None:
    from .test_hostile import RESULTS

    if not RESULTS:
        return
    results = list(RESULTS.values())
    passed, total = Counter(), Counter()
    for result in results:
        total[result.case.group] += 1
        passed[result.case.group] += result.passed
    write = terminalreporter.write_line
    terminalreporter.section("hostile corpus")
    cpu = sum(r.cpu for r in results)
    write(f"{sum(passed.values())}/{len(results)} cases passed; {cpu:.0f} CPU s in all")
    write("  ".join(f"{group} {passed[group]}/{total[group]}" for group in total))
    for result in sorted(results, key=lambda r: -r.seconds)[:5]:
        write(f"slowest: {result.seconds:5.1f} s  {result.case.id}")
