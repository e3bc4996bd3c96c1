"""What the feed and the search rankers share: LightGBM lambdarank over groups of candidates
(``ranker.LambdaRanker``; each ranker adds its features, defaults and trust policy) and the
release of a fitted ranker (``release``: log, register and gate through ``models.tracking``).
Imports nothing here, so that loading a ranker does not load the tracking code."""
