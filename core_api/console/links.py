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
# Complainants are kept to a few: twenty reporters would hide the one device-sharer that matters.
MAX_COMPLAINTS = 6
# What ranks a link: shared devices and money say most about a ring, a report the least.
PRIORITY = {"shared_device": 4.0, "money": 3.0, "shared_ip": 2.0, "report": 0.5, "block": 0.5}


@dataclass
class Link:
    """Every relation between the case's user and one other account."""

    user_id: str
    relations: dict[str, float] = field(default_factory=dict)  # relation -> strength
    evidence: list[str] = field(default_factory=list)  # what the page lists, in words
    inbound: set[str] = field(default_factory=set)  # relations pointing at the case's user

    @property
    def strength(self) -> float:
        return sum(abs(v) * PRIORITY.get(r, 1.0) for r, v in self.relations.items())

    @property
    def only_complaints(self) -> bool:
        """Linked by reports or blocks alone: someone who complained, not a ring member."""
        return set(self.relations) <= {"report", "block"}

    @property
    def shares_evidence(self) -> bool:
        """A device or IP in common: evidence a ring decision may rest on."""
        return bool({"shared_device", "shared_ip"} & self.relations.keys())


def _add(
    links: dict[str, Link],
    other: str,
    relation: str,
    strength: float,
    said: str,
    *,
    inbound: bool = False,
) -> None:
    link = links.setdefault(other, Link(other))
    if inbound:
        link.inbound.add(relation)
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
        _add(links, other, edge.edge_type, edge.weight, said, inbound=not out)


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
        strength = min(1.0, 0.2 + float(abs(net)) / 1000)
        _add(links, other, "money", strength, said, inbound=net < 0)


def _snapshot(settings: Settings, links: dict[str, Link], user_id: str) -> None:
    for edge in warehouse.graph_edges(settings, user_id):
        other = edge.dst if edge.src == user_id else edge.src
        if other == user_id:
            continue
        what = RELATIONS.get(edge.relation, edge.relation)
        plural = "s" if edge.events != 1 else ""
        said = f"{what} ({edge.events} event{plural})"
        _add(links, other, edge.relation, abs(edge.weight), said, inbound=edge.dst == user_id)


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
    complaints = [link for link in ranked if link.only_complaints][:MAX_COMPLAINTS]
    kept = [link for link in ranked if not link.only_complaints or link in complaints]
    return kept[:limit]


def relation_counts(links: list[Link]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for link in links:
        for relation in link.relations:
            counts[relation] += 1
    return dict(sorted(counts.items()))
