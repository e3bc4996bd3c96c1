"""Social and trust requests and responses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from core_api.events.payloads import PostTopic
from core_api.schemas.base import In

Visibility = Literal["public", "friends", "private"]
EdgeType = Literal["friend", "follow", "verified_connection"]
Topic = PostTopic
Body = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
MediaUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https://[^\s]+$")]
MediaUrls = Annotated[list[MediaUrl], Field(max_length=10)]


_In = In  # refuses unknown fields and text a database cannot store


class PostIn(_In):
    body: Body
    topic: Topic
    visibility: Visibility = "public"
    has_media: bool = False
    media_urls: MediaUrls = Field(default_factory=list)


class PostPatch(_In):
    """An edit: the text, topic or media (the audience stays what it was published to)."""

    body: Body | None = None
    topic: Topic | None = None
    media_urls: MediaUrls | None = None


class CommentIn(_In):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class FollowIn(_In):
    source: Literal["profile", "suggestion", "search", "post"] = "profile"


class ConversationIn(_In):
    # Small groups only: a message event goes to each recipient.
    participant_ids: Annotated[list[UUID], Field(min_length=1, max_length=20)]


class MessageIn(_In):
    body: Body
    media_urls: MediaUrls = Field(default_factory=list)


class TrustConnectIn(_In):
    user_id: UUID
    edge_type: EdgeType
    weight: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


class PostOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    author_id: str
    body: str
    topic: str
    visibility: str
    created_at: datetime
    media_urls: list[str] = []
    updated_at: datetime | None = Field(None, description="the last edit; null: never edited")


class CommentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    post_id: str
    author_id: str
    body: str
    created_at: datetime


class EngagementOut(BaseModel):
    post_id: str
    likes: int
    comments: int
    liked_by_me: bool


class FollowOut(BaseModel):
    follower_id: str
    followee_id: str
    mutual: bool


class ConversationOut(BaseModel):
    id: str
    participant_ids: list[str]
    created_at: datetime


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    conversation_id: str
    sender_id: str
    body: str
    created_at: datetime
    media_urls: list[str] = []
    status: Literal["sent", "read"] = "sent"
    read_at: datetime | None = None


class ReadOut(BaseModel):
    marked: int = Field(description="messages to the caller marked read by this call")


class FeedItemOut(BaseModel):
    post: PostOut
    score: float
    ranked: bool = Field(description="False: a prior or the clock ordered it, not the ranker")


class FeedOut(BaseModel):
    items: list[FeedItemOut]
    cursor: str | None
    version: str | None
    degraded: bool = Field(
        False,
        description="True: the feed store is unavailable and the page is the newest visible "
        "posts of the users you follow (and your own), unranked, from the core database",
    )


class TrustEdgeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    from_user_id: str
    to_user_id: str
    edge_type: str
    weight: float
    created_at: datetime
    updated_at: datetime
