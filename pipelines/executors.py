"""Where a run's steps execute, from the settings: one machine, or Celery workers on many.

- Default: Dagster's own (multiprocess), one process per step, at most one per core.
- ``VOUCH_CELERY_BROKER_URL`` set: ``dagster_celery.celery_executor`` with that broker
  (RabbitMQ in production: ``pyamqp://user:password@host:5672//``) and Celery's ``rpc://`` result
  backend. Each step is a Celery task on the queue ``dagster``; any worker started with
  ``celery -A pipelines.celery_app worker -Q dagster`` (``dagster_celery.app`` with the project
  imported in each pool process up front; ``dagster-celery worker start`` works too)
  against the same broker, the same code and the same Dagster instance (PostgreSQL storage,
  ``VOUCH_DAGSTER_POSTGRES_URL``) runs it. Workers need the same ``VOUCH_*`` settings as the
  runs: they read the same lake and feature store (a shared filesystem, or object storage).

The Kubernetes equivalent (``dagster_k8s.k8s_job_executor``, one pod per step) is configuration
only, in ``dagster.yaml`` and README; it is not installed here.
"""

from __future__ import annotations

from dagster import ExecutorDefinition

from settings import Settings

QUEUE = "dagster"  # dagster_celery's default queue, the one workers listen on (-Q)


def executor_for(settings: Settings) -> ExecutorDefinition | None:
    """The executor of every job; None keeps Dagster's default (multiprocess, or in-process
    when a run's config asks for it)."""
    if not settings.celery_broker_url:
        return None
    from dagster_celery import celery_executor

    return celery_executor.configured(
        {"broker": settings.celery_broker_url, "backend": "rpc://"},
        name="celery_executor",
    )
