"""Marketplace: listings and reviews here, orders in ``market_orders`` (mounted below)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import select

from core_api.db.market import Listing, Order, Review
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.routers import market_orders, search
from core_api.routers.market_orders import order_http
from core_api.routers.payments import ask, money
from core_api.schemas.marketplace import Category, ListingIn, ListingOut, ReviewIn, ReviewOut
from core_api.services import orders
from core_api.services.outbox import emit

router = APIRouter(prefix="/marketplace", tags=["marketplace"])
router.include_router(market_orders.router)
router.include_router(search.router)


def _not_found(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": reason})


@router.post("/listings", status_code=status.HTTP_201_CREATED, response_model=ListingOut)
def create_listing(
    body: ListingIn, me: CurrentUser, db: SessionDep, services: ServicesDep, client: ClientDep
) -> Listing:
    ask(services, me, client, "listing_create")
    listing = Listing(seller_id=me.user.id, status="active", **body.model_dump())
    db.add(listing)
    db.flush()
    emit(
        db,
        EventType.LISTING_CREATED,
        actor_id=me.user.id,
        subject_id=listing.id,
        payload={
            "category": body.category,
            "price": money(body.price),
            "currency": body.currency,
            "item_condition": body.item_condition,
            "lat": body.lat,
            "lon": body.lon,
            "ships_from": body.ships_from,
        },
        context=client.event_context(),
    )
    db.commit()
    return listing


@router.get("/listings", response_model=list[ListingOut])
def browse(
    _me: CurrentUser,
    db: SessionDep,
    category: Category | None = None,
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
) -> Sequence[Listing]:
    query = select(Listing).where(Listing.status == "active")
    if category:
        query = query.where(Listing.category == category)
    return db.scalars(query.order_by(Listing.created_at.desc()).limit(limit).offset(offset)).all()


@router.get("/listings/{listing_id}", response_model=ListingOut)
def listing(listing_id: UUID, me: CurrentUser, db: SessionDep) -> Listing:
    found = db.get(Listing, str(listing_id))
    if found is None or (found.status == "withdrawn" and found.seller_id != me.user.id):
        raise _not_found("no_such_listing")
    return found


@router.post("/listings/{listing_id}/withdraw", response_model=ListingOut)
def withdraw(listing_id: UUID, me: CurrentUser, db: SessionDep) -> Listing:
    found = listing(listing_id, me, db)
    if found.seller_id != me.user.id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail={"reason": "not_your_listing"})
    found.status = "withdrawn"
    db.commit()
    return found


@router.post(
    "/orders/{order_id}/reviews", status_code=status.HTTP_201_CREATED, response_model=ReviewOut
)
def review(
    order_id: UUID, body: ReviewIn, me: CurrentUser, db: SessionDep, client: ClientDep
) -> Review:
    """Each party reviews the other once, after delivery."""
    try:
        order: Order = orders.visible(db, str(order_id), user_id=me.user.id)
    except orders.OrderError as exc:
        raise order_http(exc) from None
    if order.status != "delivered":
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "not_delivered"})
    reviewee = order.seller_id if me.user.id == order.buyer_id else order.buyer_id
    taken = select(Review.id).where(Review.order_id == order.id, Review.reviewer_id == me.user.id)
    if db.scalar(taken):
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "already_reviewed"})
    posted = Review(
        order_id=order.id,
        reviewer_id=me.user.id,
        reviewee_id=reviewee,
        rating=body.rating,
        body=body.body,
    )
    db.add(posted)
    db.flush()
    emit(
        db,
        EventType.REVIEW_POSTED,
        actor_id=me.user.id,
        subject_id=order.id,
        payload={"reviewee_id": reviewee, "rating": body.rating},
        context=client.event_context(),
    )
    db.commit()
    return posted


@router.get("/users/{user_id}/reviews", response_model=list[ReviewOut])
def reviews_of(user_id: UUID, _me: CurrentUser, db: SessionDep) -> Sequence[Review]:
    query = select(Review).where(Review.reviewee_id == str(user_id))
    return db.scalars(query.order_by(Review.created_at.desc()).limit(200)).all()
