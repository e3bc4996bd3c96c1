"""Typed payloads, one model per event type.

A field name means one thing across all payloads (``dispute_reason``, not a second ``reason``), so
the lake can store every payload in one struct column whose fields are the union of these models.
Fields that several payloads share come in the same relative order in each of them (money before
the seller, the order before the seller, ...): one global field order then gives every payload's
canonical key order, which lets the ingest re-encode a whole batch column-wise.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict

from core_api.events.fields import (
    Country,
    Currency,
    Flag,
    Id,
    Money,
    Token,
    integer,
    number,
    text,
)

PostTopic = Literal[
    "tech",
    "sports",
    "music",
    "food",
    "travel",
    "fashion",
    "gaming",
    "finance",
    "art",
    "science",
    "politics",
    "pets",
]
ListingCategory = Literal[
    "electronics",
    "fashion",
    "home",
    "toys",
    "sports",
    "books",
    "vehicles",
    "collectibles",
    "beauty",
    "tools",
]
Platform = Literal["web", "ios", "android", "api"]
NotificationKind = Literal[
    "review_decision", "appeal_outcome", "order_update", "new_message", "payout", "subscription"
]
POST_TOPICS: tuple[str, ...] = get_args(PostTopic)
LISTING_CATEGORIES: tuple[str, ...] = get_args(ListingCategory)
PLATFORMS: tuple[str, ...] = get_args(Platform)
NOTIFICATION_KINDS: tuple[str, ...] = get_args(NotificationKind)


class Payload(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


# --- identity -------------------------------------------------------------------------------
class UserRegistered(Payload):
    email_domain: Annotated[str, text(253)]
    signup_channel: Platform
    referrer_id: Id | None = None
    # The country the user said they live in (the context's country is where they came from).
    # Optional, so additive: schema_version stays 1.
    declared_country: Country | None = None


class UserLoggedIn(Payload):
    login_method: Literal["password", "sso", "magic_link", "token_refresh"]
    mfa_used: Flag
    session_id: Id


class LoginFailed(Payload):
    failure_reason: Literal["bad_password", "unknown_user", "locked", "mfa_failed"]


class DeviceAdded(Payload):
    device_id: Token
    platform: Platform


class VerificationCompleted(Payload):
    verification: Literal["email", "phone", "id_document", "bank_account"]


class CredentialChanged(Payload):
    credential: Literal["password", "email", "phone", "mfa_enabled", "mfa_disabled"]


AccountStatus = Literal["active", "restricted", "suspended", "banned", "closed"]


class AccountStatusChanged(Payload):
    account_status: AccountStatus
    previous_status: AccountStatus | None = None
    reason_code: Annotated[str, text(64)]


class ReviewDecision(Payload):
    decision: Literal["confirmed_fraud", "cleared", "escalated"]
    case_id: Id
    typology: Annotated[str, text(64)] | None = None
    # A senior analyst reversed the case's earlier verdict: this event's ``decision`` replaces
    # it from ``occurred_at`` on (a reversed confirm is ``cleared``, a reversed clear
    # ``escalated``, back in the queue). Optional, so additive: schema_version stays 1.
    reversed: Flag | None = None


class NotificationPreferenceChanged(Payload):
    """A user set which channels tell them about one kind of notice. Turning e-mail and SMS off
    (payouts above all) is a step of account takeover: the owner stops hearing of the cash-out.
    The channels as they are after the change. Additive: schema_version stays 1."""

    notification_kind: NotificationKind
    in_app_enabled: Flag
    email_enabled: Flag
    sms_enabled: Flag


class ReviewInfoRequested(Payload):
    """An analyst asked the user for more (documents, source of funds, an explanation) before
    deciding: a workflow step, not a verdict, so never a label. Its own type rather than a
    fourth ``decision`` value: widening that Literal would change a type (a new major version),
    and readers of REVIEW_DECISION keep seeing verdicts only. Additive: schema_version stays 1."""

    case_id: Id
    reason_code: Annotated[str, text(64)]


# --- trust and social -----------------------------------------------------------------------
class TrustConnectionAdded(Payload):
    edge_type: Literal["friend", "follow", "verified_connection"]
    weight: Annotated[float, number(ge=0.0, le=1.0)]


class TrustConnectionRemoved(Payload):
    edge_type: Literal["friend", "follow", "verified_connection"]


class UserFollowed(Payload):
    follow_source: Literal["profile", "suggestion", "search", "post"]


class UserReported(Payload):
    report_reason: Literal["spam", "scam", "fake_account", "harassment", "other"]


class UserBlocked(Payload):
    pass


class PostCreated(Payload):
    visibility: Literal["public", "friends", "private"]
    topic: PostTopic
    text_length: Annotated[int, integer(ge=0, le=100_000)]
    has_link: Flag
    has_media: Flag
    # Set when the post went to a group (its members read it). Optional, so additive.
    group_id: Id | None = None


class PostEngaged(Payload):
    engagement: Literal["view", "like", "comment", "share"]
    author_id: Id
    dwell_ms: Annotated[int, integer(ge=0, le=86_400_000)] | None = None
    feed_position: Annotated[int, integer(ge=0, le=10_000)] | None = None


GroupRole = Literal["member", "moderator", "owner"]


class GroupCreated(Payload):
    """A new group; its creator (the actor) owns it. Additive: schema_version stays 1."""

    join_policy: Literal["open", "request"]
    min_trust: Annotated[float, number(ge=0.0, le=1.0)]


class GroupJoined(Payload):
    """The subject became a member: by joining an open group, by a moderator's approval (the
    actor), or by creating it. Co-membership is a graph signal, as rings join together."""

    group_id: Id
    group_role: GroupRole
    join_via: Literal["created", "open", "approved"]


class GroupJoinRejected(Payload):
    """A moderator (the actor) turned the subject's join request down."""

    group_id: Id


class GroupMemberLeft(Payload):
    """The subject left, or a moderator or the owner (the actor) removed them."""

    group_id: Id
    group_exit: Literal["left", "removed"]


class MessageSent(Payload):
    conversation_id: Id
    text_length: Annotated[int, integer(ge=0, le=100_000)]
    has_link: Flag
    # The message carries media URLs (attached files come as FILE_ATTACHED). Optional, so
    # additive: schema_version stays 1.
    has_media: Flag | None = None


# --- marketplace ----------------------------------------------------------------------------
class ListingCreated(Payload):
    category: ListingCategory
    price: Money
    currency: Currency
    item_condition: Literal["new", "used"]
    lat: Annotated[float, number(ge=-90.0, le=90.0)]
    lon: Annotated[float, number(ge=-180.0, le=180.0)]
    ships_from: Country | None = None


class OrderPlaced(Payload):
    listing_id: Id
    amount: Money
    currency: Currency
    quantity: Annotated[int, integer(ge=1, le=10_000)]
    seller_id: Id
    # The search the buyer placed the order from (a LISTING_SEARCHED search_id that showed this
    # listing): the search ranker's positive labels. Optional, so additive.
    search_id: Id | None = None


class OrderStatusChanged(Payload):
    order_status: Literal["paid", "shipped", "delivered", "cancelled", "disputed", "refunded"]
    seller_id: Id


class ReviewPosted(Payload):
    reviewee_id: Id
    rating: Annotated[int, integer(ge=1, le=5)]


class DisputeOpened(Payload):
    dispute_reason: Literal["not_received", "not_as_described", "unauthorized", "other"]
    amount: Money
    currency: Currency
    seller_id: Id


class DisputeResolved(Payload):
    dispute_outcome: Literal["buyer_won", "seller_won", "withdrawn"]
    seller_id: Id


# --- payments -------------------------------------------------------------------------------
Purpose = Literal["order", "top_up"]


class PaymentSuccess(Payload):
    amount: Money
    currency: Currency
    payment_method_id: Token
    purpose: Purpose
    order_id: Id | None = None


class PaymentFailed(Payload):
    amount: Money
    currency: Currency
    payment_method_id: Token
    purpose: Purpose
    failure_code: Literal[
        "insufficient_funds",
        "card_declined",
        "incorrect_cvc",
        "expired_card",
        "fraud_suspected",
        "do_not_honor",
    ]
    order_id: Id | None = None


class ChargebackReceived(Payload):
    amount: Money
    currency: Currency
    chargeback_reason: Literal["fraudulent", "not_received", "not_as_described", "duplicate"]
    order_id: Id | None = None
    seller_id: Id | None = None


class EscrowHeld(Payload):
    amount: Money
    currency: Currency
    seller_id: Id


class EscrowReleased(Payload):
    amount: Money
    currency: Currency
    seller_id: Id


class RefundIssued(Payload):
    amount: Money
    currency: Currency
    seller_id: Id


class TransferSent(Payload):
    transfer_id: Id
    amount: Money
    currency: Currency


class PayoutRequested(Payload):
    amount: Money
    currency: Currency
    destination_id: Token


class PayoutCompleted(Payload):
    amount: Money
    currency: Currency
    destination_id: Token


# --- collaboration --------------------------------------------------------------------------
class WorkspaceCreated(Payload):
    plan: Literal["free", "team", "business"]


class WorkspaceMemberAdded(Payload):
    workspace_id: Id
    role: Literal["owner", "admin", "member", "viewer"]


class ProjectCreated(Payload):
    workspace_id: Id


class TaskCreated(Payload):
    project_id: Id
    assignee_id: Id | None = None


class TaskUpdated(Payload):
    project_id: Id
    task_status: Literal["todo", "in_progress", "done", "blocked"]
    assignee_id: Id | None = None


# --- subscriptions --------------------------------------------------------------------------
# A subscriber (the actor, who pays) to a seller's plan (``seller_id``, who is paid); the subject
# is the subscription. Period 0 is charged when subscribing, the billing run charges the next
# ones. Additive: schema_version stays 1.
BillingInterval = Literal["week", "month", "year"]


class SubscriptionStarted(Payload):
    plan_id: Id
    amount: Money
    currency: Currency
    seller_id: Id
    billing_interval: BillingInterval


class SubscriptionRenewed(Payload):
    plan_id: Id
    amount: Money
    currency: Currency
    seller_id: Id
    billing_period: Annotated[int, integer(ge=0, le=100_000)]
    billing_attempt: Annotated[int, integer(ge=1, le=100)]


class SubscriptionPaymentFailed(Payload):
    """A charge the wallet could not pay: period 0 when subscribing (the subscription is not
    created), a later period in the billing run (retried, then the subscription is cancelled)."""

    plan_id: Id
    amount: Money
    currency: Currency
    seller_id: Id
    billing_period: Annotated[int, integer(ge=0, le=100_000)]
    billing_attempt: Annotated[int, integer(ge=1, le=100)]
    charge_failure: Literal["insufficient_funds", "account_locked", "ledger_refused"]


class SubscriptionCancelled(Payload):
    """By the subscriber (now, or at the end of the paid period) or by the billing run after the
    last failed retry (``unpaid``) or when the seller withdrew the plan (``plan_ended``)."""

    plan_id: Id
    seller_id: Id
    cancel_reason: Literal["user", "unpaid", "plan_ended"]
    at_period_end: Flag


# --- attachments ----------------------------------------------------------------------------
AttachmentType = Literal[
    "image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain"
]
ATTACHMENT_TYPES: tuple[str, ...] = get_args(AttachmentType)


class FileAttached(Payload):
    """The actor attached a file to a task, a message or a listing; its type as read from its
    bytes. The same content hash under many accounts links them (a scam's one photo on many
    listings, one document sent in many chats). Additive: schema_version stays 1."""

    attached_to: Literal["task", "message", "listing"]
    parent_id: Id
    media_type: AttachmentType
    size_bytes: Annotated[int, integer(ge=1, le=1 << 30)]
    content_sha256: Annotated[str, text(64)]


class PostEdited(Payload):
    """The author (the actor) edited a post: the post as it reads after the edit. A post that
    gathered reach and then gains a link (bait and switch) is an edit whose ``has_link`` turned
    true. Additive: schema_version stays 1."""

    visibility: Literal["public", "friends", "private"]
    topic: PostTopic
    text_length: Annotated[int, integer(ge=0, le=100_000)]
    has_link: Flag
    has_media: Flag


# --- search (appended: the ingest's global field order follows the class order) -------------
class ListingSearched(Payload):
    """One listing shown by a search (``GET /marketplace/search``), one event per listing shown,
    like a feed impression: the subject is the listing, the actor the searcher. ``search_id``
    ties the page's rows together and an order placed from it back to them; ``search_position``
    is the 0-based rank shown; ``text_match`` (0..1) and ``distance_km`` are what the query
    measured of this listing; the filters follow (absent: not filtered on)."""

    search_id: Id
    search_position: Annotated[int, integer(ge=0, le=10_000)]
    text_match: Annotated[float, number(ge=0.0, le=1.0)]
    distance_km: Annotated[float, number(ge=0.0, le=40_000.0)] | None = None
    # "shuffled": the exploration share, the first page's best listings in a random order (its
    # clicks and orders are free of position bias: unbiased data to train and judge rankers on)
    search_ranking: Literal["model", "relevance", "newest", "shuffled"]
    query_length: Annotated[int, integer(ge=0, le=200)]
    search_category: ListingCategory | None = None
    min_price: Money | None = None
    max_price: Money | None = None
    radius_km: Annotated[float, number(ge=0.0, le=20_000.0)] | None = None
