"""Sharing ("Others felt this too"): a message into the anonymised pool and out again, matching, reports.

See docs/sharing.md.
"""
