from tests.fakes.fixtures import fake_telegram, tg_bot  # noqa: F401
