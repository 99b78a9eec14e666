"""The network side: local time and its rules, time synchronisation, the captive DNS responder."""
