"""The network side: local time and its rules, the clock and its synchronisation, the
captive DNS responder."""
