"""Social tables: posts, follows, likes and comments, conversations and messages, trust edges."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, MappedColumn, mapped_column

from core_api.db.base import Base, UtcDateTime, id_column_type, new_id, utcnow

VISIBILITIES = ("public", "friends", "private")
EDGE_TYPES = ("friend", "follow", "verified_connection")


def _user_fk(*, primary_key: bool = False, index: bool = False) -> MappedColumn[str]:
    return mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=primary_key, index=index
    )


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'friends', 'private')", name="visibility"),
        Index("ix_posts_author_created", "author_id", "created_at"),
        Index("ix_posts_group_created", "group_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    topic: Mapped[str] = mapped_column(String(16))
    visibility: Mapped[str] = mapped_column(String(8))
    # Set for a group's post: only the group's members may see it (then ``visibility`` applies).
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    media_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the last edit; None: none


class Follow(Base):
    """``follower_id`` follows ``followee_id``; two opposite rows make the pair friends."""

    __tablename__ = "follows"
    __table_args__ = (CheckConstraint("follower_id <> followee_id", name="not_self"),)

    follower_id: Mapped[str] = _user_fk(primary_key=True)
    followee_id: Mapped[str] = _user_fk(primary_key=True, index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class PostLike(Base):
    __tablename__ = "post_likes"

    post_id: Mapped[str] = mapped_column(
        ForeignKey("posts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = _user_fk(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_post_created", "post_id", "created_at"),)

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    post_id: Mapped[str] = mapped_column(ForeignKey("posts.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Conversation(Base):
    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ConversationMember(Base):
    __tablename__ = "conversation_members"

    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = _user_fk(primary_key=True, index=True)


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_conversation_created", "conversation_id", "created_at"),
        CheckConstraint("status IN ('sent', 'read')", name="status"),
    )

    id: Mapped[str] = mapped_column(id_column_type(), primary_key=True, default=new_id)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    media_urls: Mapped[list[str]] = mapped_column(JSON, default=list)
    # read: a recipient marked the conversation read past this message (in a group, the first).
    status: Mapped[str] = mapped_column(String(8), default="sent")
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class TrustEdge(Base):
    """A declared trust link; ``PUT`` again with a new weight updates it in place."""

    __tablename__ = "trust_edges"
    __table_args__ = (
        CheckConstraint("from_user_id <> to_user_id", name="not_self"),
        CheckConstraint("weight >= 0 AND weight <= 1", name="weight"),
        CheckConstraint(
            "edge_type IN ('friend', 'follow', 'verified_connection')", name="edge_type"
        ),
    )

    from_user_id: Mapped[str] = _user_fk(primary_key=True)
    to_user_id: Mapped[str] = _user_fk(primary_key=True, index=True)
    edge_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
