from .board import SimBoard  # noqa: F401
