"""The outside benchmark the fraud classifier is held to: the Fraud Detection Handbook's card data.

- ``protocol``: the handbook's prequential folds and known-compromised cards;
- ``benchmark``: features from ``features.fraud.cards``, selection on validation folds only
  (``vouch fraud evaluate``).

Nothing here ships to the platform: the product's model is ``models.risk`` on ``models.fraud``.
"""
