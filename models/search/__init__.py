"""The listing search ranker: LightGBM lambdarank over searches, trust-aware, judged on later
days against relevance-only and newest-first (``evaluate``), released through MLflow
(``release``), published for the core API by ``serving.search``."""

from models.search.evaluate import (
    evaluate_ranker,
    fit_and_evaluate,
    fraud_in_top,
    newest_scores,
    relevance_scores,
    window_groups,
)
from models.search.ranker import SearchRanker

__all__ = [
    "SearchRanker",
    "evaluate_ranker",
    "fit_and_evaluate",
    "fraud_in_top",
    "newest_scores",
    "relevance_scores",
    "window_groups",
]
