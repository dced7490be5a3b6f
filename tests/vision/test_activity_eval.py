"""The activity-map measurement's own parts: the warm-up map leaves the scene's falls out of what it learns, and
seeds kept for reporting are refused.
"""

from __future__ import annotations

import numpy as np
import pytest

from estatewatch.bench.activity_eval import FallFreeMap, _seeds
from vision.activity_map import ActivityParams


def test_the_warm_up_map_does_not_learn_the_falls_it_watches() -> None:
    truth = {"size_px": 4, "frames": [[f, 100.0, 20.0 + 8 * f] for f in range(10)]}  # full-resolution px, scale 2
    amap = FallFreeMap(ActivityParams(), [truth], fps=20.0)
    amap.fit((96, 128), 2)
    for f in range(10):
        fg = np.zeros((96, 128), np.uint8)
        y = int((20 + 8 * f) / 2)
        fg[y - 2:y + 2, 48:52] = 255  # the falling object
        fg[80:96, 0:16] = 255  # and a tree in the corner
        amap.update(fg, f / 20.0)
    rates = amap.rates()
    assert float(rates[:, 3].max()) == 0.0  # the fall's column learnt nothing
    assert rates[5, 0] == pytest.approx(1.0)  # the tree did


def test_reporting_seeds_are_refused() -> None:
    assert _seeds("1-3,7") == [1, 2, 3, 7]
    with pytest.raises(SystemExit, match="kept for reporting"):
        _seeds("99999-100001")
