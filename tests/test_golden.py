"""The command line's outputs equal the golden files written before the restructuring.

``tests/golden/make_golden.py`` wrote ``tests/golden/<case>/`` from the code as it
was before issue 10; this test runs the same commands on the code as it is and
compares every file. A difference is a change of behaviour: find it, or, for an
intended change of output, regenerate the files and say why in the commit.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

GOLDEN = Path(__file__).resolve().parent / "golden"

spec = importlib.util.spec_from_file_location("make_golden", GOLDEN / "make_golden.py")
make_golden = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_golden)


@pytest.mark.slow
@pytest.mark.parametrize("case", make_golden.CASES)
def test_outputs_equal_the_golden_files(case, tmp_path):
    files = make_golden.produce(case, tmp_path)
    expected = sorted(p.name for p in (GOLDEN / case).iterdir())
    assert sorted(files) == expected
    for name, text in files.items():
        assert text == (GOLDEN / case / name).read_text("utf-8"), f"{case}/{name} differs"


def test_synthetic_input_is_deterministic():
    a = make_golden.synthetic_features(50)
    b = make_golden.synthetic_features(50)
    assert a == b
    assert len({f["properties"]["id"] for f in a["features"]}) == 50
