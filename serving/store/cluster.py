"""Redis Cluster routing for the online store's hand-packed paths: which node serves a slot.

redis-py's ``RedisCluster`` routes the publisher's and the admin's commands; the decision path
and the bulk page writer bypass redis-py (see ``resp`` and ``redis``), so they ask this map
which node owns a key's slot. The map comes from ``CLUSTER SLOTS`` on any node and is read
again when a node answers ``MOVED`` or ``ASK`` (a resharding or a failover moved the slot).
"""

from __future__ import annotations

import bisect
import threading
from typing import Any

import hiredis
import redis
from redis.crc import key_slot

from serving import keys
from serving.store.resp import Wire

Address = tuple[str, int]


def slot(key: str) -> int:
    """The cluster slot of a key (CRC16 of its hash tag, or of the whole key without one)."""
    return int(key_slot(key.encode()))


class SlotMap:
    """Slot -> node address, from ``CLUSTER SLOTS`` of a cluster reached through ``client``."""

    def __init__(self, client: redis.RedisCluster) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._starts: list[int] = []
        self._ranges: list[tuple[int, int, Address]] = []
        self.refresh()

    def refresh(self) -> None:
        ranges = []
        for node in self.client.get_primaries():
            reply: Any = node.redis_connection.execute_command("CLUSTER SLOTS")
            for start, end, primary, *_ in reply:
                host = primary[0].decode() if isinstance(primary[0], bytes) else primary[0]
                ranges.append((int(start), int(end), (host or node.host, int(primary[1]))))
            break  # one node's view is the cluster's
        ranges.sort()
        with self._lock:
            self._ranges, self._starts = ranges, [r[0] for r in ranges]

    def node(self, slot_no: int) -> Address:
        with self._lock:
            i = bisect.bisect_right(self._starts, slot_no) - 1
            start, end, address = self._ranges[i]
        if not start <= slot_no <= end:
            raise LookupError(f"slot {slot_no} is served by no node")
        return address

    def group_nodes(self) -> list[Address]:
        """The node of each hash-tag group (``keys.SLOT_GROUPS`` of them)."""
        return [self.node(slot(keys.tag(g))) for g in range(keys.SLOT_GROUPS)]


class ClusterWire(Wire):
    """The decision path's round trips, each batch sent to the node of its slot."""

    def __init__(self, url: str, slots: SlotMap, *, timeout_s: float) -> None:
        super().__init__(url, timeout_s=timeout_s)
        self.slots = slots

    def by_slot(self, batches: list[tuple[int, bytes, int]]) -> list[list[Any]]:
        """Replies of each ``(slot, commands, replies)`` batch; one retry after a slot moved."""
        for attempt in (0, 1):
            try:
                routed = [(self.slots.node(s), c, n) for s, c, n in batches]
                return self.roundtrips(routed)
            except hiredis.ReplyError as exc:
                if attempt or not str(exc).startswith(("MOVED", "ASK")):
                    raise
                self.slots.refresh()
        raise AssertionError("unreachable")
