"""Local Bluesky/atproto stack for end-to-end tests (see stack.py, up.sh, down.sh)."""
