# Theory of operation: the loop's timer heap.
#
# Owns a binary heap of entries ``[deadline, seq, callback, args, ref]`` (lists, so that cancelling
# is one store: ``entry[2] = None``). Cancelled entries stay in the heap (lazy deletion) and are
# skipped when they reach the top; when most of the heap is dead it is rebuilt without them.
# ``seq`` keeps entries with equal deadlines in FIFO order and stops comparison reaching callbacks.
# ``live_refs`` counts the live entries that keep the loop running (ref=True).
# It never calls a callback itself: ``pop_due`` hands the due entries to the loop.

from heapq import heapify, heappop, heappush
from itertools import count

__all__ = ["TimerHeap"]


class TimerHeap:
    __slots__ = ("heap", "dead", "live_refs", "_seq")

    def __init__(self) -> None:
        self.heap: list = []
        self.dead = 0
        self.live_refs = 0
        self._seq = count().__next__

    def __len__(self) -> int:
        return len(self.heap) - self.dead

    def add(self, deadline: float, callback, args: tuple, ref: bool = True) -> list:
        entry = [deadline, self._seq(), callback, args, ref]
        heappush(self.heap, entry)
        if ref:
            self.live_refs += 1
        return entry

    def cancel(self, entry: list) -> None:
        if entry[2] is None:
            return
        entry[2] = None
        entry[3] = ()  # the dead entry may wait in the heap: it must not keep its args alive
        if entry[4]:
            self.live_refs -= 1
        heap = self.heap
        if heap and heap[-1] is entry:
            # The newest timer with the latest deadline, as a timeout cancelled soon after it
            # was set usually is: removing the last item of a heap keeps it a heap.
            heap.pop()
            return
        self.dead += 1
        if self.dead > 256 and self.dead > (len(heap) >> 1):
            heap[:] = [e for e in heap if e[2] is not None]
            heapify(heap)
            self.dead = 0

    def next_deadline(self) -> float | None:
        """The earliest live deadline, dropping dead entries from the top."""
        heap = self.heap
        while heap:
            top = heap[0]
            if top[2] is not None:
                return top[0]
            heappop(heap)
            self.dead -= 1
        return None

    def pop_due(self, now: float) -> list:
        """Remove and return the live entries whose deadline is <= now, earliest first."""
        heap = self.heap
        due = []
        while heap and heap[0][0] <= now:
            entry = heappop(heap)
            if entry[2] is None:
                self.dead -= 1
                continue
            if entry[4]:
                self.live_refs -= 1
            due.append(entry)
        return due

    def clear(self) -> None:
        self.heap.clear()
        self.dead = 0
        self.live_refs = 0
