"""Figures a person would rather look at than read: PR curve, calibration, feature importance."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # files only: no screen needed
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.calibration import calibration_curve
from sklearn.metrics import average_precision_score, precision_recall_curve


def pr_curve(y: np.ndarray, score: np.ndarray, *, title: str = "Precision-recall") -> Figure:
    precision, recall, _ = precision_recall_curve(y, score)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(recall, precision)
    ax.axhline(float(np.mean(y)), color="grey", linestyle=":", label="base rate")
    ax.set(
        xlabel="recall",
        ylabel="precision",
        xlim=(0, 1),
        ylim=(0, 1.02),
        title=f"{title} (AP {average_precision_score(y, score):.3f})",
    )
    ax.legend()
    return fig


def calibration(y: np.ndarray, probability: np.ndarray, *, bins: int = 10) -> Figure:
    observed, predicted = calibration_curve(y, probability, n_bins=bins, strategy="quantile")
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    ax.plot(predicted, observed, marker="o", label="model")
    ax.set(xlabel="predicted probability", ylabel="observed rate", title="Calibration")
    ax.legend()
    return fig


def importance(names: list[str], gains: np.ndarray, *, top: int = 20) -> Figure:
    order = np.argsort(gains)[-top:]
    fig, ax = plt.subplots(figsize=(6, 0.3 * len(order) + 1))
    ax.barh([names[i] for i in order], np.asarray(gains)[order])
    ax.set(xlabel="total gain", title="Feature importance")
    return fig
