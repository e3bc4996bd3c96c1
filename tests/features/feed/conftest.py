"""A hand-made feed story: posts, engagements, follows, trust and flags around request time T0.

``history()`` is everything before T0, ``later()`` everything from T0 on (including the served
feeds of T1 that the training-group test labels).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest

from tests.features.platform_graph.pgraph_lakes import T0, D, H, M, ev, uid, write_lake

S = M / 60
T1 = T0 + D  # when the served feeds of the training-group test happen
POSTS = {  # name -> (author, created_at, topic, has_link, has_media, text_length)
    "amy1": ("amy", T0 - 2 * D, "tech", False, True, 120),
    "amy2": ("amy", T0 - H, "tech", False, False, 80),
    "ben": ("ben", T0 - 30 * M, "food", True, False, 40),
    "fox": ("fox", T0 - 3 * H, "pets", True, True, 10),
    "new": ("amy", T0 + H, "tech", False, False, 5),
}


def pid(name: str) -> str:
    return uid(f"post-{name}")


def post(name: str) -> bytes:
    author, at, topic, link, media, length = POSTS[name]
    return ev(
        "POST_CREATED",
        at,
        by=author,
        on=f"post-{name}",
        visibility="public",
        topic=topic,
        has_link=link,
        has_media=media,
        text_length=length,
    )


def engage(
    viewer: str, name: str, *, kind: str, at: datetime, position: int | None = None
) -> bytes:
    extra = {} if position is None else {"feed_position": position}
    return ev(
        "POST_ENGAGED",
        at,
        by=viewer,
        on=f"post-{name}",
        engagement=kind,
        author_id=uid(POSTS[name][0]),
        **extra,
    )


def history() -> list[bytes]:
    return [
        *(post(name) for name in ("amy1", "amy2", "ben", "fox")),
        engage("vic", "amy1", kind="view", at=T0 - 2 * D + 10 * M, position=0),
        engage("vic", "amy1", kind="like", at=T0 - 2 * D + 11 * M, position=0),
        engage("vic", "amy1", kind="share", at=T0 - D),
        engage("cat", "amy2", kind="view", at=T0 - 50 * M, position=3),
        engage("cat", "amy2", kind="like", at=T0 - 45 * M, position=3),
        engage("cat", "ben", kind="like", at=T0 - 20 * M),
        ev("USER_FOLLOWED", T0 - D, by="vic", on="amy", follow_source="post"),
        ev("TRUST_CONNECTION_ADDED", T0 - D, by="vic", on="amy", edge_type="friend", weight=0.6),
        ev(
            "TRUST_CONNECTION_ADDED",
            T0 - D,
            by="amy",
            on="vic",
            edge_type="verified_connection",
            weight=0.9,
        ),
        ev("TRUST_CONNECTION_REMOVED", T0 - H, by="amy", on="vic", edge_type="verified_connection"),
        ev(
            "REVIEW_DECISION",
            T0 - 2 * H,
            by="analyst",
            on="fox",
            decision="confirmed_fraud",
            case_id=str(uuid.uuid4()),
        ),
    ]


def later() -> list[bytes]:
    return [
        post("new"),
        ev(
            "REVIEW_DECISION",
            T0,
            by="analyst",
            on="amy",
            decision="confirmed_fraud",
            case_id=str(uuid.uuid4()),
        ),  # at T0 exactly: not yet known at T0
        engage("cat", "amy2", kind="comment", at=T0 + 2 * H),
        ev("USER_FOLLOWED", T0 + H, by="cat", on="amy", follow_source="post"),
        ev("TRUST_CONNECTION_REMOVED", T0 + H, by="vic", on="amy", edge_type="friend"),
        # Feed 1 of vic at T1: amy2, ben, fox; he likes then comments ben, shares fox, and likes
        # amy2 only two days later (outside the label window).
        engage("vic", "amy2", kind="view", at=T1, position=0),
        engage("vic", "ben", kind="view", at=T1 + 10 * S, position=1),
        engage("vic", "ben", kind="like", at=T1 + 15 * S, position=1),
        engage("vic", "fox", kind="view", at=T1 + 20 * S, position=2),
        engage("vic", "fox", kind="share", at=T1 + 25 * S, position=2),
        engage("vic", "ben", kind="comment", at=T1 + 30 * S, position=1),
        engage("vic", "amy2", kind="like", at=T1 + 2 * D, position=0),
        # Feed 2 of vic two hours later; a view without a position is no impression.
        engage("vic", "amy1", kind="view", at=T1 + 2 * H, position=0),
        engage("vic", "amy1", kind="like", at=T1 + 2 * H + 3 * S, position=0),
        engage("vic", "ben", kind="view", at=T1 + 2 * H + 5 * S, position=1),
        engage("vic", "fox", kind="view", at=T1 + 2 * H + 6 * S),
        # Cat's feed at T1 + 1 h.
        engage("cat", "fox", kind="view", at=T1 + H, position=0),
    ]


@pytest.fixture(scope="package")
def feed_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """History and later events: what the lake holds once everything has arrived."""
    return write_lake(tmp_path_factory.mktemp("feed_story"), history() + later())


@pytest.fixture(scope="package")
def feed_lake_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same lake as it stood at T0."""
    return write_lake(tmp_path_factory.mktemp("feed_history"), history())
