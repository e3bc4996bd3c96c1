import polars as pl

from tests.conftest import SmallLake


def test_small_lake_has_events_of_every_domain(small_lake: SmallLake) -> None:
    events = pl.scan_parquet(small_lake.events / "*" / "*.parquet", hive_partitioning=True)
    types = set(events.select("event_type").unique().collect().to_series().to_list())
    assert {"ORDER_PLACED", "POST_ENGAGED", "TRUST_CONNECTION_ADDED", "PAYMENT_FAILED"} <= types
