"""Risk of every node of an attributed graph from few or no labels, and its outside check.

- ``views``: per-node attributes, structure, neighbour aggregates and unlikeness to neighbours;
- ``recipe``: unsupervised ensemble + positive-unlabelled LightGBM, mixed by the labels at hand;
- ``io``: the outside data's three CSV files;
- ``evaluate``: hide labels, score, compare with IsolationForest and LightGBM on raw attributes.
"""

from models.graph_risk.evaluate import evaluate_graph, seen_labels
from models.graph_risk.io import AttributedGraph, read_graph
from models.graph_risk.recipe import GraphRisk, RecipeConfig, score_graph

__all__ = [
    "AttributedGraph",
    "GraphRisk",
    "RecipeConfig",
    "evaluate_graph",
    "read_graph",
    "score_graph",
    "seen_labels",
]
