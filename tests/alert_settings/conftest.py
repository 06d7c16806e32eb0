from tests.harness import harness  # noqa: F401
