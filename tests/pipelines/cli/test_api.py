from __future__ import annotations

from pipelines.cli import build_parser
from pipelines.cli.api import _serve


def test_vouch_api_parses_its_options() -> None:
    args = build_parser().parse_args(["api", "--port", "9001", "--relay-every-s", "0"])
    assert (args.func, args.port, args.host, args.relay_every_s) == (_serve, 9001, "127.0.0.1", 0)
