"""Trust links between users (``/identity/trust``): a critical action, asked of the decider."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, Response, status
from sqlalchemy import select

from core_api.db.social import TrustEdge
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.social import EdgeType, TrustConnectIn, TrustEdgeOut
from core_api.services.guards import act, existing_user, invalid
from core_api.services.outbox import emit

router = APIRouter(prefix="/identity/trust", tags=["identity"])


@router.put("/connect", response_model=TrustEdgeOut)
def connect(
    body: TrustConnectIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    response: Response,
) -> TrustEdge:
    target = existing_user(db, str(body.user_id))
    if target.id == me.user.id:
        raise invalid("cannot_trust_self")
    act(services, client, me=me, action="trust_connect")
    edge = db.get(TrustEdge, (me.user.id, target.id, body.edge_type))
    if edge is None:
        edge = TrustEdge(
            from_user_id=me.user.id,
            to_user_id=target.id,
            edge_type=body.edge_type,
            weight=body.weight,
        )
        db.add(edge)
        response.status_code = status.HTTP_201_CREATED
    elif edge.weight == body.weight:
        return edge  # a repeated PUT: nothing changed, nothing to announce
    else:
        edge.weight = body.weight
    # A changed weight is announced as the edge's new state; the graph keeps the latest.
    emit(
        db,
        EventType.TRUST_CONNECTION_ADDED,
        actor_id=me.user.id,
        subject_id=target.id,
        payload={"edge_type": body.edge_type, "weight": body.weight},
        context=client.event_context(),
    )
    db.commit()
    return edge


@router.get("/connections", response_model=list[TrustEdgeOut])
def my_connections(me: CurrentUser, db: SessionDep) -> Sequence[TrustEdge]:
    query = select(TrustEdge).where(TrustEdge.from_user_id == me.user.id)
    return db.scalars(query.order_by(TrustEdge.created_at, TrustEdge.to_user_id)).all()


@router.delete("/connect/{user_id}/{edge_type}", status_code=status.HTTP_204_NO_CONTENT)
def disconnect(
    user_id: UUID, edge_type: EdgeType, me: CurrentUser, db: SessionDep, client: ClientDep
) -> None:
    edge = db.get(TrustEdge, (me.user.id, str(user_id), edge_type))
    if edge is None:
        return
    db.delete(edge)
    emit(
        db,
        EventType.TRUST_CONNECTION_REMOVED,
        actor_id=me.user.id,
        subject_id=edge.to_user_id,
        payload={"edge_type": edge_type},
        context=client.event_context(),
    )
    db.commit()
