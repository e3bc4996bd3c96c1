"""Conversations and messages: only participants can see that a conversation exists."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, status
from sqlalchemy import CursorResult, select, update

from core_api.db.identity import User
from core_api.db.social import Conversation, ConversationMember, Message
from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.social import (
    ConversationIn,
    ConversationOut,
    MessageIn,
    MessageOut,
    ReadOut,
)
from core_api.services import notices, posts
from core_api.services.guards import act, invalid, not_found, require_active
from core_api.services.outbox import emit

router = APIRouter(prefix="/social", tags=["social"])


def _members(db: SessionDep, conversation_id: str) -> list[str]:
    query = select(ConversationMember.user_id).where(
        ConversationMember.conversation_id == conversation_id
    )
    return sorted(db.scalars(query))


def _mine(db: SessionDep, conversation_id: UUID, me: CurrentUser) -> Conversation:
    """The conversation if the caller takes part; 404 otherwise, absent or not."""
    key = (str(conversation_id), me.user.id)
    conversation = db.get(Conversation, str(conversation_id))
    if conversation is None or db.get(ConversationMember, key) is None:
        raise not_found("no_such_conversation")
    return conversation


def _out(db: SessionDep, conversation: Conversation) -> ConversationOut:
    return ConversationOut(
        id=conversation.id,
        participant_ids=_members(db, conversation.id),
        created_at=conversation.created_at,
    )


@router.post("/conversations", status_code=status.HTTP_201_CREATED, response_model=ConversationOut)
def start_conversation(body: ConversationIn, me: CurrentUser, db: SessionDep) -> ConversationOut:
    require_active(me)
    others = {str(u) for u in body.participant_ids} - {me.user.id}
    if not others:
        raise invalid("no_other_participant")
    known = set(db.scalars(select(User.id).where(User.id.in_(others))))
    if known != others:
        raise not_found("no_such_user")
    conversation = Conversation(created_by=me.user.id)
    db.add(conversation)
    db.flush()
    for user_id in sorted(others | {me.user.id}):
        db.add(ConversationMember(conversation_id=conversation.id, user_id=user_id))
    db.commit()
    return _out(db, conversation)


@router.get("/conversations", response_model=list[ConversationOut])
def my_conversations(
    me: CurrentUser, db: SessionDep, limit: Annotated[int, Query(ge=1, le=100)] = 50
) -> list[ConversationOut]:
    query = (
        select(Conversation)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.user_id == me.user.id)
        .order_by(Conversation.created_at.desc(), Conversation.id)
        .limit(limit)
    )
    return [_out(db, c) for c in db.scalars(query)]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def get_conversation(conversation_id: UUID, me: CurrentUser, db: SessionDep) -> ConversationOut:
    return _out(db, _mine(db, conversation_id, me))


@router.get("/conversations/{conversation_id}/messages", response_model=list[MessageOut])
def messages(
    conversation_id: UUID,
    me: CurrentUser,
    db: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Sequence[Message]:
    conversation = _mine(db, conversation_id, me)
    newest = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(limit)
    )
    return list(reversed(db.scalars(newest).all()))  # oldest first, as a chat reads


@router.post(
    "/conversations/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    response_model=MessageOut,
)
def send_message(
    conversation_id: UUID,
    body: MessageIn,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> Message:
    conversation = _mine(db, conversation_id, me)
    act(services, client, me=me, action="message")
    message = Message(
        conversation_id=conversation.id,
        sender_id=me.user.id,
        body=body.body,
        media_urls=list(body.media_urls),
        status="sent",
    )
    db.add(message)
    # One event per recipient: fraud features count who a sender reaches, not conversations.
    for recipient in _members(db, conversation.id):
        if recipient != me.user.id:
            emit(
                db,
                EventType.MESSAGE_SENT,
                actor_id=me.user.id,
                subject_id=recipient,
                payload={
                    "conversation_id": conversation.id,
                    "text_length": len(body.body),
                    "has_link": posts.has_link(body.body),
                    "has_media": bool(body.media_urls),
                },
                context=client.event_context(),
            )
            notices.message_sent(
                db, conversation_id=conversation.id, sender=me.user, recipient_id=recipient
            )
    db.commit()
    return message


@router.post("/conversations/{conversation_id}/read", response_model=ReadOut)
def mark_read(conversation_id: UUID, me: CurrentUser, db: SessionDep) -> ReadOut:
    """Mark every message the others sent here so far as read (the sender sees ``read``)."""
    conversation = _mine(db, conversation_id, me)
    now = datetime.now(UTC)
    result = db.execute(
        update(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.sender_id != me.user.id,
            Message.status == "sent",
            Message.created_at <= now,
        )
        .values(status="read", read_at=now)
        .execution_options(synchronize_session=False)
    )
    db.commit()
    return ReadOut(marked=result.rowcount if isinstance(result, CursorResult) else 0)
