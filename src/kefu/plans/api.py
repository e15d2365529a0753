"""Service plans and inspections in the API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Service plans and inspections"])
