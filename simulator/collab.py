"""Collaboration: workspaces, their members, projects and tasks moving through their states."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from simulator.base import (
    DAY,
    HOUR,
    SECOND,
    Day,
    csr,
    exp_delay,
    pick_in_groups,
    uniform_times,
)
from simulator.identity import Sessions, home_context
from simulator.ids import random_uuids
from simulator.population import Population
from simulator.social import Graph, community_peer, valid_target
from simulator.wire import frame, nullify, obj

PLANS = np.array(["free", "team", "business"])
ROLES = np.array(["owner", "admin", "member", "viewer"])
STATUS = np.array(["todo", "in_progress", "done", "blocked"])
_EMPTY_IDS = pl.Series([], dtype=pl.String)


@dataclass
class Collab:
    ws_id: pl.Series = field(default_factory=lambda: _EMPTY_IDS)
    m_ws: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    m_user: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    p_id: pl.Series = field(default_factory=lambda: _EMPTY_IDS)
    p_ws: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    p_since: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    t_id: pl.Series = field(default_factory=lambda: _EMPTY_IDS)
    t_proj: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    t_who: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    t_status: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))


def _member_frames(
    pop: Population,
    st: Collab,
    *,
    ws: np.ndarray,
    by: np.ndarray,
    user: np.ndarray,
    role: np.ndarray,
    ts: np.ndarray,
) -> pl.DataFrame:
    st.m_ws = np.concatenate([st.m_ws, ws])
    st.m_user = np.concatenate([st.m_user, user])
    pay = obj(
        ws.size, [("workspace_id", "s", st.ws_id.gather(ws)), ("role", "s", pl.Series(ROLES[role]))]
    )
    return frame(
        "WORKSPACE_MEMBER_ADDED",
        ts,
        actor=pop.uid.gather(by),
        subject=pop.uid.gather(user),
        payload=pay,
        ctx=home_context(pop, by),
    )


def _project_frames(
    pop: Population,
    st: Collab,
    *,
    ws: np.ndarray,
    by: np.ndarray,
    ts: np.ndarray,
    rng: np.random.Generator,
) -> pl.DataFrame:
    pid = random_uuids(rng, ws.size)
    st.p_id = pl.concat([st.p_id, pid])
    st.p_ws = np.concatenate([st.p_ws, ws])
    st.p_since = np.concatenate([st.p_since, ts])
    pay = obj(ws.size, [("workspace_id", "s", st.ws_id.gather(ws))])
    return frame(
        "PROJECT_CREATED",
        ts,
        actor=pop.uid.gather(by),
        subject=pid,
        payload=pay,
        ctx=home_context(pop, by),
    )


def _task_payload(
    pop: Population, st: Collab, *, rows: np.ndarray, status: np.ndarray | None
) -> pl.Series:
    who = st.t_who[rows]
    assignee = nullify(pop.uid.gather(np.maximum(who, 0)), who < 0)
    fields = [("project_id", "s", st.p_id.gather(st.t_proj[rows]))]
    if status is not None:
        fields.append(("task_status", "s", pl.Series(STATUS[status])))
    fields.append(("assignee_id", "s", assignee))
    return obj(rows.size, fields)


def daily(
    pop: Population, graph: Graph, *, st: Collab, sess: Sessions, day: Day
) -> list[pl.DataFrame]:
    rng = day.rng("collab")
    out: list[pl.DataFrame] = []
    # --- new workspaces with their first members and projects
    new = np.flatnonzero(pop.honest_life()[sess.user] & (rng.random(len(sess)) < 0.004))
    owner, ts = sess.user[new], sess.ts[new] + exp_delay(rng, new.size, mean=10 * SECOND)
    base = len(st.ws_id)
    wid = random_uuids(rng, new.size)
    st.ws_id = pl.concat([st.ws_id, wid])
    ws = base + np.arange(new.size)
    plan = rng.choice(3, size=new.size, p=[0.78, 0.17, 0.05])
    out.append(
        frame(
            "WORKSPACE_CREATED",
            ts,
            actor=pop.uid.gather(owner),
            subject=wid,
            payload=obj(new.size, [("plan", "s", pl.Series(PLANS[plan]))]),
            ctx=sess.ctx.gather(new),
        )
    )
    out.append(
        _member_frames(
            pop, st, ws=ws, by=owner, user=owner, role=np.zeros(new.size, np.int64), ts=ts + SECOND
        )
    )
    k = rng.poisson(2.5, new.size)
    rep = np.repeat(np.arange(new.size), k)
    who = graph.trusted(rng, owner[rep])
    peer = community_peer(pop, rng, users=owner[rep])
    who = np.where((who < 0) | (rng.random(rep.size) < 0.4), peer, who)
    m_ts = ts[rep] + exp_delay(rng, rep.size, mean=3 * HOUR)
    ok = valid_target(pop, who, ts=m_ts, actor=owner[rep])
    keep = np.zeros(rep.size, bool)
    keep[np.unique(rep * pop.n + who, return_index=True)[1]] = True
    ok &= keep
    out.append(
        _member_frames(
            pop,
            st,
            ws=ws[rep[ok]],
            by=owner[rep[ok]],
            user=who[ok],
            role=rng.choice([1, 2, 3], size=int(ok.sum()), p=[0.15, 0.7, 0.15]),
            ts=m_ts[ok],
        )
    )
    k = 1 + rng.poisson(0.8, new.size)
    rep = np.repeat(np.arange(new.size), k)
    out.append(
        _project_frames(
            pop,
            st,
            ws=ws[rep],
            by=owner[rep],
            ts=ts[rep] + exp_delay(rng, rep.size, mean=HOUR),
            rng=rng,
        )
    )
    m_order, m_ptr = csr(st.m_ws, len(st.ws_id))
    # --- an occasional new project in an existing workspace
    old_ws = np.flatnonzero(rng.random(base) < 0.02)
    by = st.m_user[pick_in_groups(rng, order=m_order, indptr=m_ptr, groups=old_ws)]
    out.append(
        _project_frames(
            pop,
            st,
            ws=old_ws,
            by=by,
            ts=uniform_times(rng, old_ws.size, lo=day.d0, hi=day.d1),
            rng=rng,
        )
    )
    # --- tasks: young projects are busy, old ones fall quiet
    live = np.flatnonzero(st.p_since < day.d0)
    rate = 1.3 * np.exp(-(day.d0 - st.p_since[live]) / (20 * DAY))
    k = rng.poisson(rate)
    proj = np.repeat(live, k)
    by = st.m_user[pick_in_groups(rng, order=m_order, indptr=m_ptr, groups=st.p_ws[proj])]
    who = st.m_user[pick_in_groups(rng, order=m_order, indptr=m_ptr, groups=st.p_ws[proj])]
    who = np.where(rng.random(proj.size) < 0.8, who, -1)
    t_ts = uniform_times(rng, proj.size, lo=day.d0, hi=day.d1)
    tid = random_uuids(rng, proj.size)
    rows = len(st.t_id) + np.arange(proj.size)
    st.t_id = pl.concat([st.t_id, tid])
    st.t_proj = np.concatenate([st.t_proj, proj])
    st.t_who = np.concatenate([st.t_who, who])
    st.t_status = np.concatenate([st.t_status, np.zeros(proj.size, np.int8)])
    out.append(
        frame(
            "TASK_CREATED",
            t_ts,
            actor=pop.uid.gather(by),
            subject=tid,
            payload=_task_payload(pop, st, rows=rows, status=None),
            ctx=home_context(pop, by),
        )
    )
    # --- open tasks move on: todo -> in_progress -> done, sometimes blocked on the way
    moving = np.flatnonzero((rng.random(len(st.t_id)) < 0.3) & (st.t_status != 2))
    moving = moving[~np.isin(moving, rows)]
    cur = st.t_status[moving]
    nxt = np.where(
        cur == 0, 1, np.where(cur == 3, 1, np.where(rng.random(moving.size) < 0.82, 2, 3))
    )
    st.t_status[moving] = nxt
    actor = st.t_who[moving]
    fallback = st.m_user[
        pick_in_groups(rng, order=m_order, indptr=m_ptr, groups=st.p_ws[st.t_proj[moving]])
    ]
    actor = np.where(actor >= 0, actor, fallback)
    u_ts = uniform_times(rng, moving.size, lo=day.d0, hi=day.d1)
    out.append(
        frame(
            "TASK_UPDATED",
            u_ts,
            actor=pop.uid.gather(actor),
            subject=st.t_id.gather(moving),
            payload=_task_payload(pop, st, rows=moving, status=nxt),
            ctx=home_context(pop, actor),
        )
    )
    done = st.t_status == 2
    if done.size and done.mean() > 0.5:  # forget finished tasks so the state stays bounded
        keep = ~done
        st.t_id = st.t_id.filter(pl.Series(keep))
        st.t_proj, st.t_who, st.t_status = st.t_proj[keep], st.t_who[keep], st.t_status[keep]
    return out
