"""Simulated boards (never deployed): board.SimBoard (physics), replay.ReplayBoard (tables)."""
