"""The trust graph engine: per-node trust scores on a signed graph, and their evaluation.

- :mod:`~features.trust.io`: external signed edge lists and fraud labels (CSV);
- :mod:`~features.trust.propagation`: personalised PageRank and SybilRank-style seeded trust;
- :mod:`~features.trust.seeds`: label-free seeds for graphs without verified users;
- :mod:`~features.trust.rev2`: REV2 fairness, goodness and reliability;
- :mod:`~features.trust.evidence`: burst-discounted Beta-reputation evidence trust;
- :mod:`~features.trust.score`: every score of every node, and the combined ``trust``;
- :mod:`~features.trust.evaluate`: ROC AUC / average precision, full and inductive protocols.
"""

from features.trust.evaluate import PROTOCOLS, evaluate
from features.trust.io import EdgeList, read_labels, read_signed_edges
from features.trust.propagation import personalized_pagerank, seeded_trust
from features.trust.rev2 import Rev2, rev2
from features.trust.score import TrustConfig, score_graph
from features.trust.seeds import default_seeds

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
