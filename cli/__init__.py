"""The ``vouch`` command. The one package that may import every other: it only wires them.

Each module here adds its subcommands to the parser (``register(sub)``); ``main`` dispatches.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from cli import (
    api,
    billing,
    console,
    features,
    feed,
    fraud,
    lake,
    models,
    nats,
    review,
    risk,
    serving,
    trust,
    ui,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vouch", description="Vouch: trust, fraud and recommendations platform."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = (
        lake,
        features,
        models,
        review,
        console,
        serving,
        feed,
        trust,
        fraud,
        risk,
        api,
        billing,
        nats,
        ui,
    )
    for module in modules:
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    warnings.filterwarnings("ignore", category=Warning, module="dagster")
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
