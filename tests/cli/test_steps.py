"""The CLI's progress bar over a Dagster run's steps, on a real two-asset run."""

from __future__ import annotations

from dagster import Definitions, asset, define_asset_job

from cli.steps import with_step_progress


@asset
def first_number() -> int:
    return 1


@asset
def second_number(first_number: int) -> int:
    return first_number + 1


def test_step_bar_counts_every_finished_step_of_a_real_run() -> None:
    defs = Definitions(assets=[first_number, second_number], jobs=[define_asset_job("two")])
    job, bar = with_step_progress(defs.resolve_job_def("two"), label="two")
    result = job.execute_in_process(
        run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}, "progress": {}}}
    )
    assert result.success
    assert (bar.bar.n, bar.bar.total) == (2, 2)
    bar.finish()
    assert bar.bar.disable  # finished: tqdm closed
