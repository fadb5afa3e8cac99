"""Helpers for Causeway's end-to-end tests: real Prosody, the real causeway binary, slixmpp."""
