"""Every synthetic scenario (captures/synthetic/<name>.py) rebuilds its folder byte for byte, and its
truth.json follows the documented schema: the committed captures are what the code says they are."""

from __future__ import annotations

import pytest

from tests.corpus.truth import SYNTHETIC, load_truth, schema_problems, synthetic_cases, synthetic_scenario


@pytest.mark.parametrize("name", synthetic_cases())
def test_scenario_regenerates_byte_for_byte(name, tmp_path):
    module = synthetic_scenario(name)
    assert module.NAME == name
    module.write(tmp_path / name)
    # golden files (`icetrace check`, docs/corpus.md) sit beside the capture but are not the module's
    committed = sorted(p.name for p in (SYNTHETIC / name).iterdir() if not p.name.endswith(".expected.json"))
    assert committed, f"captures/synthetic/{name}/ is empty"
    assert sorted(p.name for p in (tmp_path / name).iterdir()) == committed
    for file in committed:
        assert (tmp_path / name / file).read_bytes() == (SYNTHETIC / name / file).read_bytes(), file
    assert schema_problems(load_truth(SYNTHETIC / name)) == []
