"""The hostile corpus of issue 11, one test per case, named ``group/case``.

The cases run concurrently (one `reel` subprocess per CPU) the first time a test
asks for the results; each test then checks its own case. What every case must do
is in run.py's docstring; the cases are in cases_*.py; README.md says how to run one.
"""

from __future__ import annotations

import json
import os

import pytest

from .corpus import all_cases
from .run import Result, run_all

CASES = all_cases()
RESULTS: dict[str, Result] = {}  # what this session ran, for the terminal summary (conftest.py)


@pytest.fixture(scope="session")
def hostile_results(request) -> dict[str, Result]:
    """Every selected case's result, run once for the session."""
    selected = [
        item.callspec.params["case"]
        for item in request.session.items
        if getattr(item, "originalname", None) == "test_hostile_case" and hasattr(item, "callspec")
    ]
    results = run_all(selected or CASES)
    RESULTS.update((result.case.id, result) for result in results)
    report = os.environ.get("REEL_HOSTILE_REPORT")
    if report:
        with open(report, "w") as out:
            json.dump(
                [
                    {
                        "id": r.case.id,
                        "seconds": round(r.seconds, 2),
                        "cpu": round(r.cpu, 2),
                        "exit": r.returncode,
                        "problems": r.problems,
                        "stderr": r.stderr[:2000],
                    }
                    for r in results
                ],
                out,
                indent=1,
            )
    return RESULTS


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_hostile_case(case, hostile_results, request):
    result = hostile_results[case.id]
    if case.gl and not result.passed:
        request.getfixturevalue("gl_compositor")(16, 16)  # skips, with the reason, where there is no OpenGL
    if not result.passed:
        pytest.fail(result.line(), pytrace=False)
