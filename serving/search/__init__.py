"""Listing search's ranking at request time: the released LightGBM ranker (``store``) applied
to one search's candidates (``rank``). No release, or one that cannot be read: ``load`` answers
``None`` and the core API ranks by relevance instead."""

from serving.search.rank import Candidate, score
from serving.search.store import Release, load, publish

__all__ = ["Candidate", "Release", "load", "publish", "score"]
