"""/order: the card, buttons, masking, caption fallback, errors."""

from __future__ import annotations

from tests.harness import Harness
from tests.lookups.helpers import ORDER, ask, body, buttons, linked_group, setup_shop


async def test_order_card_in_private_english(harness: Harness) -> None:
    owner, shop, fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}")
    assert "photo" in msg
    text = body(msg)
    assert f"Order {ORDER}" in text
    assert "New" in text and "Not paid" in text
    assert "79000000000" in text
    assert "Фрунзе 56" in text
    names = set(buttons(msg))
    assert any("Change status" in n for n in names)
