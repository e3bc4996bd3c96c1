"""A progress bar over a Dagster run's steps, for CLI commands started from a terminal.

Dagster hands each step's start and end to every logger of the run as a record carrying the event;
a logger of our own (beside the console one) turns those into one bar per run:
"models: 2/4 [... user_scores]".
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from dagster import InitLoggerContext, logger
from tqdm import tqdm

_DONE = {"STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"}


class StepBar(logging.Handler):
    """Advances a tqdm bar on every finished step and names the step running now."""

    def __init__(self, *, total: int, label: str) -> None:
        super().__init__(level=logging.DEBUG)
        self.bar = tqdm(total=total, desc=label, unit="step", file=sys.stderr, leave=True)

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        kind = getattr(event, "event_type_value", None)
        if kind == "STEP_START":
            self.bar.set_postfix_str(getattr(event, "step_key", None) or "", refresh=True)
        elif kind in _DONE:
            self.bar.update(1)

    def finish(self) -> None:
        """End the bar (not ``close``: Dagster closes its loggers' handlers between steps)."""
        self.bar.set_postfix_str("done", refresh=False)
        self.bar.close()


def with_step_progress(job: Any, *, label: str) -> tuple[Any, StepBar]:
    """``job`` with a ``progress`` logger beside the console one (its run config entry is
    ``{"progress": {}}``) and the bar it draws (``finish`` it after the run: a step the plan skips
    sends no event). The bar counts the job's nodes: one per asset or check here."""
    from dagster import colored_console_logger

    bar = StepBar(total=len(job.graph.node_dict), label=label)

    @logger(description="progress bar over the run's steps (CLI only)")
    def progress(_context: InitLoggerContext) -> logging.Logger:
        out = logging.Logger(f"vouch.steps.{label}", level=logging.DEBUG)
        out.addHandler(bar)
        return out

    return job.with_logger_defs({"console": colored_console_logger, "progress": progress}), bar
