"""`vouch ui` (`make ui`): the Dagster UI and the MLflow UI together, on the data dir's instance
and tracking store. One Ctrl-C or SIGTERM stops both, and everything they started.

Each UI runs in a process group of its own, so a stop reaches the whole tree (the Dagster webserver,
daemon, code server and any run they launched; MLflow's server workers), and whatever is still
there after a grace period is killed: nothing is left running. ``dagster dev`` starts in
DAGSTER_HOME, so it does not warn that the repository's dagster.yaml "will not be used"
(pipelines/instance.py has written it there).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from settings import Settings


GRACE_S = 20.0
# The MLflow UI remembers a "GenAI" / "model training" switch per browser (GenAI by default);
# this query parameter opens the experiment list on model training (MLflow 3.17 forgets it once
# an experiment is opened, until the switch itself is clicked: README says so).
MLFLOW_VIEW = "/#/experiments?workflowType=machine_learning"


def free_port(host: str, preferred: int) -> int:
    """``preferred`` when it is free on ``host``, else any free port."""
    for port in (preferred, 0):
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise OSError(f"no free port on {host}")


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def _environment(settings: Settings, home: Path) -> dict[str, str]:
    """Our environment plus every setting, absolute: the UIs start in DAGSTER_HOME, where a
    relative data dir or a ``.env`` file would no longer be found."""
    from settings import PREFIX

    env = dict(os.environ, DAGSTER_HOME=str(home))
    for name, value in settings.model_dump(exclude_defaults=True).items():
        if value is not None:
            env[f"{PREFIX}{name.upper()}"] = str(value)
    env[f"{PREFIX}DATA_DIR"] = str(settings.data_dir.resolve())
    env[f"{PREFIX}LANDING_DIR"] = str(settings.landing)
    return env


def _stop(children: dict[str, subprocess.Popen[bytes]]) -> None:
    """Ask each group to stop, wait, then kill what is left of every group."""
    for name, child in children.items():
        if child.poll() is None:
            # dagster dev shuts its webserver and daemon down on SIGINT (not on SIGTERM).
            _signal_group(child.pid, signal.SIGINT if name == "Dagster" else signal.SIGTERM)
    deadline = time.monotonic() + GRACE_S
    for child in children.values():
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
    for child in children.values():
        _signal_group(child.pid, signal.SIGKILL)  # the group outlives its leader's exit
        child.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
        os.killpg(pgid, sig)


def _ui(args: argparse.Namespace) -> int:
    from pipelines.instance import dagster_home
    from settings import get_settings

    settings = get_settings()
    home = dagster_home(settings)
    env = _environment(settings, home)
    bin_dir = Path(sys.executable).parent
    host = args.host
    ports = {"Dagster": free_port(host, args.dagster_port)}
    commands = {
        "Dagster": [
            str(bin_dir.joinpath("dagster")),  # the executable, not the data folder
            "dev",
            "-m",
            "pipelines.definitions",
            "-h",
            host,
            "-p",
            str(ports["Dagster"]),
        ],
    }
    commands["Dagster"] += ["-h", host, "-p", str(ports["Dagster"])]
    urls = {"Dagster": f"http://{host}:{ports['Dagster']}"}
    if settings.mlflow_tracking_uri:  # a tracking server of its own has its own UI
        urls["MLflow"] = settings.mlflow_tracking_uri
    else:
        ports["MLflow"] = free_port(host, args.mlflow_port)
        commands["MLflow"] = [str(bin_dir / "mlflow"), "server", "--workers", "1"]
        commands["MLflow"] += ["--host", host, "--port", str(ports["MLflow"])]
        commands["MLflow"] += ["--backend-store-uri", f"sqlite:///{settings.mlflow_database}"]
        commands["MLflow"] += ["--default-artifact-root", settings.mlflow_artifacts.as_uri()]
        urls["MLflow"] = f"http://{host}:{ports['MLflow']}{MLFLOW_VIEW}"
        settings.mlflow_artifacts.mkdir(parents=True, exist_ok=True)

    stopping: list[int] = []

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {s: signal.signal(s, request_stop) for s in (signal.SIGINT, signal.SIGTERM)}
    children = {
        name: subprocess.Popen(cmd, cwd=home, env=env, start_new_session=True)
        for name, cmd in commands.items()
    }
    announced = False
    try:
        while not stopping:
            if any(child.poll() is not None for child in children.values()):
                print("vouch ui: a UI exited; stopping the other", file=sys.stderr)
                return 1
            if not announced and all(_listening(host, p) for p in ports.values()):
                print("\nVouch UIs (Ctrl-C stops both):", flush=True)
                print(
                    f"  Dagster  {urls['Dagster']}   assets, runs, checks, automation", flush=True
                )
                print(f"  MLflow   {urls['MLflow']}   training runs, models", flush=True)
                announced = True
            time.sleep(0.5)
        return 0
    finally:
        _stop(children)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(sub: argparse._SubParsersAction) -> None:
    cmd = sub.add_parser(
        "ui",
        help="the Dagster UI and the MLflow UI together (Ctrl-C stops both)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cmd.add_argument("--host", default="127.0.0.1")
    cmd.add_argument("--dagster-port", type=int, default=3000, help="(default 3000, else free)")
    cmd.add_argument("--mlflow-port", type=int, default=5000, help="(default 5000, else free)")
    cmd.set_defaults(func=_ui)
