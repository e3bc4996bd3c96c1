"""The Celery app Vouch's workers run: ``celery -A pipelines.celery_app worker -Q dagster``.

It is ``dagster_celery.app`` (the tasks that execute a Dagster step), plus one thing: each pool
process imports the definitions (and with them polars, LightGBM, MLflow) when it starts, not
when its first step arrives, so a step's time is the step's. The broker comes from
``VOUCH_CELERY_BROKER_URL`` (else ``-b`` on the command line).
"""

from __future__ import annotations

from typing import Any

from celery.signals import worker_process_init
from dagster_celery.app import app, execute_job, execute_plan, resume_job

from settings import get_settings

if get_settings().celery_broker_url:
    app.conf.broker_url = get_settings().celery_broker_url

__all__ = ["app", "execute_job", "execute_plan", "resume_job"]


@worker_process_init.connect
def _load_definitions(**_: Any) -> None:
    import pipelines.definitions  # noqa: F401 - imported for its cost, once per pool process
