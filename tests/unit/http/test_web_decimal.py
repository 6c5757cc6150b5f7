"""The client's exact decimal arithmetic (`static/js/decimal.js`), run in Node: the ticket's snapping to
the tick and quantity steps, and the on-screen revaluation of a position, never pass through floats."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tradesim.entrypoints.http.web import STATIC

NODE = shutil.which("node")
CASES = {
    "snap": [
        # (value, step, mode) -> expected
        (["30000.07", "0.10", "nearest"], "30000.10"),
        (["30000.04", "0.10", "nearest"], "30000.00"),
        (["30000.05", "0.10", "nearest"], "30000.10"),  # half a tick rounds up
        (["0.0129", "0.001", "down"], "0.012"),  # a quantity never grows
        (["5", "0.001", "down"], "5.000"),
        (["0.0004", "0.001", "down"], "0.000"),
        (["123", "1", "nearest"], "123"),
        (["0.1", "0.5", "nearest"], "0.0"),
        (["2.5", "0.5", "down"], "2.5"),
    ],
    "minus": [(["30100", "30000.1"], "99.9"), (["1.5", "-2.25"], "3.75"), (["5", "5"], "0"), (["0.1", "0.3"], "-0.2")],
    "times": [(["99.9", "0.01"], "0.999"), (["-0.5", "-0.2"], "0.1"), (["-0.1", "0.01"], "-0.001")],
    "compare": [(["1.50", "1.5"], 0), (["0.1", "0.09"], 1), (["29000", "30000.1"], -1)],
}
SCRIPT = """
const d = await import(process.argv[1]);
const cases = JSON.parse(process.argv[2]);
const got = {};
for (const [name, rows] of Object.entries(cases)) got[name] = rows.map(([args]) => d[name](...args));
console.log(JSON.stringify(got));
"""


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed (scripts/test needs it for the infra checks)")
def test_decimal_strings_are_snapped_and_computed_exactly() -> None:
    assert NODE is not None
    module = (STATIC / "js" / "decimal.js").as_uri()
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", SCRIPT, module, json.dumps(CASES)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    for name, rows in CASES.items():
        assert got[name] == [expected for _args, expected in rows], name
