"""When to try a failed delivery again: doubling waits from one minute, at most an hour apart,
six tries in all (about half an hour of retrying). Pure arithmetic."""

from __future__ import annotations

MAX_ATTEMPTS = 6
FIRST_DELAY = 60
LONGEST_DELAY = 3600


def retry_delay(attempt: int) -> int:
    """Seconds to wait after failed try number ``attempt`` (1-based)."""
    if attempt < 1:
        raise ValueError("attempts are counted from 1")
    delay: int = FIRST_DELAY * 2 ** (attempt - 1)
    return min(delay, LONGEST_DELAY)
