"""Structural features on a tiny graph whose answers are known by hand."""

from __future__ import annotations

import numpy as np
import pytest

from features.neighbours import adjacency
from features.structure import STRUCTURAL_FEATURES, structural_features, triangles

# 0-1, 0-2, 1-2 (a triangle), 2-3 (a pendant); 4 is isolated.
SRC = np.array([0, 0, 1, 2])
DST = np.array([1, 2, 2, 3])


def test_structural_features_of_a_triangle_with_a_pendant() -> None:
    a = adjacency(SRC, DST, n=5)
    assert triangles(a).tolist() == [1.0, 1.0, 1.0, 0.0, 0.0]
    f = structural_features(a)
    assert list(f) == list(STRUCTURAL_FEATURES)
    np.testing.assert_allclose(np.expm1(f["log_degree"]), [2, 2, 3, 1, 0])
    np.testing.assert_allclose(f["clustering"], [1.0, 1.0, 1 / 3, 0.0, 0.0])
    # Node 2's egonet is the whole component: 4 edges among 4 nodes, nothing outside it.
    assert np.expm1(f["log_egonet_edges"][2]) == pytest.approx(4.0)
    assert np.expm1(f["log_egonet_boundary"][2]) == pytest.approx(0.0)
    # Node 3's egonet is {2, 3}: one edge inside, two leaving through node 2.
    assert np.expm1(f["log_egonet_boundary"][3]) == pytest.approx(2.0)
    np.testing.assert_allclose(np.expm1(f["log_core"]), [2, 2, 2, 1, 0])
    assert all(np.isfinite(v).all() for v in f.values())
