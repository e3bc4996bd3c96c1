"""How well ``1 - trust`` ranks labelled fraudsters above benign users, under two protocols.

- ``full``: the scores see the whole graph. On Bitcoin Alpha/OTC this leaks the labels: REV2
  derived them from ratings in the same graph (mean received rating alone reaches AUC 0.978).
- ``inductive``: every rating *into* a labelled node is hidden before scoring, so a labelled
  user is judged only by how it rates others (and what the rest of the graph says about the
  users it rated). Labelled users who rate no one then have no edge at all; they stay in the
  evaluation and get the cold-start trust of any edgeless node. Figures restricted to labelled
  users with at least one outgoing rating are reported alongside (REV2 can only score those).

Labels are read here and only here: nothing in the scoring sees them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from features.trust_engine.graph import SignedGraph
from features.trust_engine.score import TrustConfig, score_graph

PROTOCOLS = ("full", "inductive")


def _metrics(fraud: np.ndarray, score: np.ndarray) -> dict[str, Any]:
    # Imported here: the package imports this module, and sklearn (with scipy.stats and pandas)
    # was seconds of every `vouch trust score` start, which never evaluates.
    from sklearn.metrics import average_precision_score, roc_auc_score

    auc = ap = None
    if 0 < fraud.sum() < len(fraud):  # both classes present, else the metrics are undefined
        auc = round(float(roc_auc_score(fraud, score)), 4)
        ap = round(float(average_precision_score(fraud, score)), 4)
    return {
        "roc_auc": auc,
        "average_precision": ap,
        "labelled": len(fraud),
        "fraudulent": int(fraud.sum()),
    }


def labelled_nodes(graph: SignedGraph, labels: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Dense ids (-1 when the graph lacks the node) and fraud flags of the labelled nodes."""
    ids = labels["node_id"].to_numpy()
    text_graph, text_labels = graph.ids.dtype.kind in "USO", ids.dtype.kind in "USO"
    if not text_graph and not text_labels:
        dense = graph.index_of(ids)
    elif text_graph and text_labels:
        dense = graph.index_of(ids.astype(str))
    else:  # text on one side, numbers on the other: compare as text
        known = graph.ids.astype(str)
        order = np.argsort(known)
        pos = np.clip(np.searchsorted(known[order], ids.astype(str)), 0, max(graph.n - 1, 0))
        hit = known[order][pos] == ids.astype(str) if graph.n else np.zeros(len(ids), bool)
        dense = np.where(hit, order[pos], -1)
    return dense, labels["label"].to_numpy() == -1


def evaluate(
    graph: SignedGraph,
    labels: pl.DataFrame,
    *,
    protocol: str = "full",
    config: TrustConfig | None = None,
) -> dict[str, Any]:
    """ROC AUC and average precision of ``1 - trust`` as a fraud score on the labelled nodes."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
    config = config or TrustConfig()
    dense, fraud = labelled_nodes(graph, labels)
    known = dense >= 0
    seen = graph.without_incoming(dense[known]) if protocol == "inductive" else graph
    scores = score_graph(seen, config=config)
    trust = np.full(len(dense), cold_start_trust(config))
    trust[known] = scores["trust"].to_numpy()[dense[known]]
    out_degree = np.zeros(len(dense), dtype=np.int64)
    out_degree[known] = np.bincount(seen.src, minlength=seen.n)[dense[known]]
    degree = out_degree.copy()
    degree[known] += np.bincount(seen.dst, minlength=seen.n)[dense[known]]
    rates = out_degree > 0
    return {
        "protocol": protocol,
        **_metrics(fraud, 1.0 - trust),
        "benign": int((~fraud).sum()),
        "not_in_graph": int((~known).sum()),
        "edgeless": int((degree == 0).sum()),
        "edgeless_fraudulent": int(((degree == 0) & fraud).sum()),
        "edges_seen": seen.m,
        "edges_hidden": graph.m - seen.m,
        "with_outgoing": _metrics(fraud[rates], 1.0 - trust[rates]),
    }


def cold_start_trust(config: TrustConfig | None = None) -> float:
    """Trust of a node without any edge (and not a seed): the Beta(1, 1) median, unreached."""
    config = config or TrustConfig()
    return 0.5 * (1.0 - config.reach_weight)
