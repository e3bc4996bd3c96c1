"""The trust engine: per-node trust scores on any signed graph, and their evaluation.

It knows nothing of the platform (``features.platform_graph`` builds the platform's graph and
applies the engine to it); Bitcoin OTC and the platform go through the same code.

- :mod:`~features.trust_engine.graph`: ``SignedGraph``, the shape every algorithm takes;
- :mod:`~features.trust_engine.io`: external signed edge lists and fraud labels (CSV);
- :mod:`~features.trust_engine.propagation`: personalised PageRank and SybilRank-style seeded trust;
- :mod:`~features.trust_engine.seeds`: label-free seeds for graphs without verified users;
- :mod:`~features.trust_engine.rev2`: REV2 fairness, goodness and reliability;
- :mod:`~features.trust_engine.evidence`: burst-discounted Beta-reputation evidence trust;
- :mod:`~features.trust_engine.score`: every score of every node, and the combined ``trust``;
- :mod:`~features.trust_engine.evaluate`: ROC AUC / average precision, full and inductive protocols.
"""

from features.trust_engine.evaluate import PROTOCOLS, evaluate
from features.trust_engine.io import EdgeList, read_labels, read_signed_edges
from features.trust_engine.propagation import personalized_pagerank, seeded_trust
from features.trust_engine.rev2 import Rev2, rev2
from features.trust_engine.score import TrustConfig, score_graph
from features.trust_engine.seeds import default_seeds

__all__ = [
    "PROTOCOLS",
    "EdgeList",
    "Rev2",
    "TrustConfig",
    "default_seeds",
    "evaluate",
    "personalized_pagerank",
    "read_labels",
    "read_signed_edges",
    "rev2",
    "score_graph",
    "seeded_trust",
]
