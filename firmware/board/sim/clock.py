"""Where simulated clocks start: the 30-bit tick counter wraps 3 s after boot, so every
simulated run (and every test) crosses the wrap that an ESP32 crosses every 18 minutes."""
START_US = (1 << 30) - 3_000_000
