"""Linked accounts: who shares devices or IPs with a user, trusts them, or moves money with them.

Two sources, merged per (other user, relation): the core database (live: devices by
fingerprint, last IPs, declared trust edges, ledger transfers) and the pipeline's latest
platform-graph snapshot (everything the lake saw, up to its last ingest). The strongest links
are kept, so a page draws a readable graph even around a hub.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from core_api.console import warehouse
from core_api.db.identity import Device, User
from core_api.db.money import Entry, LedgerTransaction, Wallet
from core_api.db.social import TrustEdge
from settings import Settings

# relation -> how the page says it; graph snapshots name trust edges by their type.
RELATIONS = {
    "shared_device": "shares a device",
    "shared_ip": "shares an IP address",
    "friend": "trust: friend",
    "follow": "trust: follows",
    "verified_connection": "trust: verified connection",
    "rating": "trust: rating",
    "money": "money flow",
    "report": "report",
    "block": "block",
}
MAX_LINKED = 24


@dataclass
class Link:
    """Every relation between the case's user and one other account."""

    user_id: str
    relations: dict[str, float] = field(default_factory=dict)  # relation -> strength
    evidence: list[str] = field(default_factory=list)  # what the page lists, in words

    @property
    def strength(self) -> float:
        return sum(abs(v) for v in self.relations.values())

    @property
    def shares_evidence(self) -> bool:
        """A device or IP in common: evidence a ring decision may rest on."""
        return bool({"shared_device", "shared_ip"} & self.relations.keys())


def _add(links: dict[str, Link], other: str, relation: str, strength: float, said: str) -> None:
    link = links.setdefault(other, Link(other))
    link.relations[relation] = max(link.relations.get(relation, 0.0), strength)
    if said not in link.evidence:
        link.evidence.append(said)


def _devices(db: Session, links: dict[str, Link], user_id: str) -> None:
    mine, theirs = aliased(Device), aliased(Device)
    shared = db.execute(
        select(theirs.user_id, mine.fingerprint)
        .join(theirs, and_(theirs.fingerprint == mine.fingerprint, theirs.user_id != user_id))
        .where(mine.user_id == user_id)
        .limit(200)
    )
    for other, fingerprint in shared:
        _add(links, other, "shared_device", 1.0, f"device {fingerprint}")
    ips = db.execute(
        select(theirs.user_id, mine.last_ip)
        .join(theirs, and_(theirs.last_ip == mine.last_ip, theirs.user_id != user_id))
        .where(mine.user_id == user_id, mine.last_ip.is_not(None))
        .limit(200)
    )
    for other, ip in ips:
        _add(links, other, "shared_ip", 0.5, f"IP {ip}")


def _trust(db: Session, links: dict[str, Link], user_id: str) -> None:
    edges = db.scalars(
        select(TrustEdge).where(
            (TrustEdge.from_user_id == user_id) | (TrustEdge.to_user_id == user_id)
        )
    )
    for edge in edges:
        out = edge.from_user_id == user_id
        other = edge.to_user_id if out else edge.from_user_id
        arrow = "→" if out else "←"
        said = f"{arrow} {edge.edge_type} {edge.weight:.1f}"
        _add(links, other, edge.edge_type, edge.weight, said)


def _money(db: Session, links: dict[str, Link], user_id: str) -> None:
    """Transfers between the user's wallets and another user's: net per counterpart."""
    mine_w, theirs_w = aliased(Wallet), aliased(Wallet)
    mine_e, theirs_e = aliased(Entry), aliased(Entry)
    rows = db.execute(
        select(theirs_w.owner_id, theirs_w.currency, func.sum(theirs_e.amount), func.count())
        .select_from(mine_e)
        .join(mine_w, mine_w.id == mine_e.wallet_id)
        .join(LedgerTransaction, LedgerTransaction.id == mine_e.transaction_id)
        .join(theirs_e, theirs_e.transaction_id == mine_e.transaction_id)
        .join(theirs_w, theirs_w.id == theirs_e.wallet_id)
        .where(
            mine_w.owner_id == user_id,
            LedgerTransaction.kind == "transfer",
            theirs_w.kind == "user",
            theirs_w.owner_id != user_id,
        )
        .group_by(theirs_w.owner_id, theirs_w.currency)
    )
    for other, currency, net, count in rows:
        if other is None:
            continue
        net = Decimal(net)
        way = "sent" if net > 0 else "received"
        said = f"{count} transfers, {way} {abs(net):.2f} {currency}"
        _add(links, other, "money", min(1.0, 0.2 + float(abs(net)) / 1000), said)


def _snapshot(settings: Settings, links: dict[str, Link], user_id: str) -> None:
    for edge in warehouse.graph_edges(settings, user_id):
        other = edge.dst if edge.src == user_id else edge.src
        if other == user_id:
            continue
        what = RELATIONS.get(edge.relation, edge.relation)
        plural = "s" if edge.events != 1 else ""
        _add(links, other, edge.relation, abs(edge.weight), f"{what} ({edge.events} event{plural})")


def linked_accounts(
    db: Session, settings: Settings, *, user_id: str, limit: int = MAX_LINKED
) -> list[Link]:
    """The user's strongest links, at most ``limit``, strongest first; only accounts the core
    database knows (a link the console could not act on is left out)."""
    links: dict[str, Link] = {}
    _devices(db, links, user_id)
    _trust(db, links, user_id)
    _money(db, links, user_id)
    _snapshot(settings, links, user_id)
    known = set(db.scalars(select(User.id).where(User.id.in_(list(links)))))
    ranked = sorted(
        (link for link in links.values() if link.user_id in known),
        key=lambda link: (-link.strength, link.user_id),
    )
    return ranked[:limit]


def relation_counts(links: list[Link]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for link in links:
        for relation in link.relations:
            counts[relation] += 1
    return dict(sorted(counts.items()))
