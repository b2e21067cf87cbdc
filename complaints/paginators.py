"""A paginator whose count stops at a cap: the count of a large queue (tens of
thousands of open complaints in one team) cost more than the page itself. Agents
work from the top of a deadline-sorted queue and filter to find the rest, so past
the cap the list says "more than N" and offers the pages up to it."""

from __future__ import annotations

from functools import cached_property

from django.core.paginator import Paginator

QUEUE_COUNT_CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list, per_page, *, cap: int = QUEUE_COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _capped_count(self) -> int:
        # SELECT COUNT(*) FROM (… LIMIT cap + 1): stops reading at the cap.
        return self.object_list.order_by()[: self.cap + 1].count()

    @cached_property
    def count(self) -> int:
        return min(self._capped_count, self.cap)

    @cached_property
    def capped(self) -> bool:
        """Whether there are more rows than the count says."""
        return self._capped_count > self.cap
