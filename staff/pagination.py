"""A paginator for lists too long to count: the run history holds millions of rows at fleet scale,
and the admin's COUNT(*) of them cost more than the page itself (bench/admin_lists.py).

It counts at most `cap` + 1 rows (``SELECT COUNT(*) FROM (... LIMIT cap + 1)``), which an index
scan stops early; a longer list says "more than 10,000" and asks for a filter, and its pages run
to the cap."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

CAP = 10_000


class CappedCountPaginator(Paginator):
    cap = CAP

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        """True when the list is longer than the cap (its count then reads cap + 1)."""
        return self.count > self.cap
