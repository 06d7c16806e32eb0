"""Callback data of the lookup buttons. Every one carries the shop id; handlers re-check it.

Prefixes are short and unique to this package: `lo` order card actions, `lx` the status
change flow, `lp` the order list pages and filters, `ls` the shop choice.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData


class OrderAction(CallbackData, prefix="lo"):
    """A button under an order card: r refresh, i items, c customer, s status, m comment."""

    a: str
    s: int
    o: str


class StatusFlow(CallbackData, prefix="lx"):
    """The status change flow: pick (st=-1 → list), confirm (c=1), notify toggle (n)."""

    s: int
    o: str
    st: int = -1
    n: int = 0
    c: int = 0


class ListPage(CallbackData, prefix="lp"):
    """A page of /orders: f is the filter code ("-" all, "g<i>" group, "s<i>" status)."""

    s: int
    f: str
    p: int = 0


class ShopPick(CallbackData, prefix="ls"):
    """The answer to "which shop?": the pending command's token and the chosen shop."""

    t: str
    s: int
