"""Geometry for the two pictures on a case page, drawn as inline SVG by the templates: the
linked-accounts graph (a deterministic radial layout: the same case always looks the same)
and the risk-over-snapshots chart. Only numbers and labels come out of here; the templates
escape whatever they print."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from core_api.console.links import RELATIONS, Link
from core_api.console.warehouse import Point

WIDTH, HEIGHT = 680, 500
INNER = 12  # nodes on the inner ring; the rest go on an outer one
CENTRE_R, NODE_R = 18.0, 12.0
BANDS = {"medium": 0.10, "high": 0.50}  # models.risk.scoring.BANDS, for colours and guides

# relation -> stroke colour and dash (money is drawn with an arrow by the template)
EDGE_STYLE = {
    "shared_device": ("#7d3c98", ""),
    "shared_ip": ("#a98bd6", "4 3"),
    "friend": ("#2f7d59", ""),
    "follow": ("#5fa883", "2 3"),
    "verified_connection": ("#2f7d59", ""),
    "rating": ("#5fa883", ""),
    "money": ("#1f6fb2", ""),
    "report": ("#c0392b", "5 3"),
    "block": ("#c0392b", "2 2"),
}


def risk_colour(risk: float | None) -> str:
    if risk is None:
        return "#b8bec6"
    if risk >= BANDS["high"]:
        return "#d0453a"
    return "#e0a030" if risk >= BANDS["medium"] else "#4c9f6f"


@dataclass(frozen=True)
class Node:
    user_id: str
    x: float
    y: float
    r: float
    fill: str
    status: str
    label: str
    title: str
    href: str
    centre: bool = False
    label_x: float = 0.0
    label_y: float = 0.0
    anchor: str = "middle"  # text-anchor: labels sit outside the ring, away from the edges


@dataclass(frozen=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    colour: str
    dash: str
    width: float
    relation: str
    arrow: bool


@dataclass(frozen=True)
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    legend: list[tuple[str, str, str]]  # colour, dash, words
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Account:
    """What a node shows of an account."""

    user_id: str
    label: str
    status: str
    risk: float | None
    href: str


def layout(centre: Account, links: list[Link], *, accounts: dict[str, Account]) -> Graph:
    cx, cy = WIDTH / 2, HEIGHT / 2
    rings = [links[:INNER], links[INNER:]]
    radii = [min(cx, cy) * 0.5, min(cx, cy) * 0.86]
    placed: list[tuple[Link, float, float]] = []
    for ring, radius in zip(rings, radii, strict=True):
        step = 2 * math.pi / max(1, len(ring))
        offset = -math.pi / 2 + (step / 2 if ring is rings[1] else 0.0)
        for i, link in enumerate(ring):
            angle = offset + i * step
            placed.append((link, cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    nodes = [_node(centre, cx, cy, centre=True, out=(0.0, 1.0))]
    edges: list[Edge] = []
    for link, x, y in placed:
        account = accounts[link.user_id]
        ux, uy = _unit(cx, cy, x, y)
        nodes.append(_node(account, x, y, centre=False, out=(ux, uy)))
        # One line per relation, fanned a little so parallel relations stay visible; lines end
        # at the circles' rims so arrows and dashes stay readable.
        relations = sorted(link.relations)
        start, end = CENTRE_R + 2, NODE_R + 3
        for k, relation in enumerate(relations):
            colour, dash = EDGE_STYLE.get(relation, ("#888888", ""))
            bend = (k - (len(relations) - 1) / 2) * 5.0
            nx, ny = -uy, ux
            a = (cx + ux * start + nx * bend, cy + uy * start + ny * bend)
            b = (x - ux * end + nx * bend, y - uy * end + ny * bend)
            if relation in link.inbound:  # drawn towards the case's user
                a, b = b, a
            edges.append(
                Edge(
                    x1=round(a[0], 1),
                    y1=round(a[1], 1),
                    x2=round(b[0], 1),
                    y2=round(b[1], 1),
                    colour=colour,
                    dash=dash,
                    width=round(1.0 + 2.5 * min(1.0, abs(link.relations[relation])), 1),
                    relation=relation,
                    arrow=relation == "money",
                )
            )
    seen = sorted({e.relation for e in edges})
    legend = [(*EDGE_STYLE.get(r, ("#888888", "")), RELATIONS.get(r, r)) for r in seen]
    return Graph(nodes=nodes, edges=edges, legend=legend)


def _unit(x1: float, y1: float, x2: float, y2: float) -> tuple[float, float]:
    dx, dy = x2 - x1, y2 - y1
    length = math.hypot(dx, dy) or 1.0
    return dx / length, dy / length


def _node(account: Account, x: float, y: float, *, centre: bool, out: tuple[float, float]) -> Node:
    risk = "unscored" if account.risk is None else f"risk {account.risk:.2f}"
    r = CENTRE_R if centre else NODE_R
    ux, uy = out
    anchor = "start" if ux > 0.35 else ("end" if ux < -0.35 else "middle")
    return Node(
        user_id=account.user_id,
        x=round(x, 1),
        y=round(y, 1),
        r=r,
        label_x=round(x + ux * (r + 5), 1),
        # Below the circle when pointing down, above it when pointing up (text sits on its base).
        label_y=round(y + uy * (r + 5) + (4 + 8 * uy if abs(ux) <= 0.35 else 4), 1),
        anchor=anchor,
        fill=risk_colour(account.risk),
        status=account.status,
        label=account.label,
        title=f"{account.label}: {risk}, {account.status}",
        href=account.href,
        centre=centre,
    )


@dataclass(frozen=True)
class Chart:
    points: list[tuple[float, float, str]]  # x, y, tooltip
    line: str  # the polyline's points attribute
    guides: list[tuple[float, str]]  # y, label (the band cut-offs)
    first: str
    last: str
    width: int = 360
    height: int = 120


def risk_chart(history: list[Point]) -> Chart | None:
    """Risk (0..1, top is 1) against snapshot time; None without history."""
    if not history:
        return None
    left, right, top, bottom = 46.0, 350.0, 8.0, 100.0
    t0, t1 = history[0].at.timestamp(), history[-1].at.timestamp()
    span = (t1 - t0) or 1.0

    def x_of(at: datetime) -> float:
        if t1 == t0:
            return (left + right) / 2
        return round(left + (at.timestamp() - t0) / span * (right - left), 1)

    def y_of(risk: float) -> float:
        return round(bottom - max(0.0, min(1.0, risk)) * (bottom - top), 1)

    points = [
        (x_of(p.at), y_of(p.risk), f"{p.at:%Y-%m-%d}: {p.risk:.3f} ({p.band})") for p in history
    ]
    return Chart(
        points=points,
        line=" ".join(f"{x},{y}" for x, y, _ in points),
        guides=[(y_of(v), name) for name, v in BANDS.items()],
        first=f"{history[0].at:%Y-%m-%d}",
        last=f"{history[-1].at:%Y-%m-%d}",
    )
