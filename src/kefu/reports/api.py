"""Monitoring and reports in the API."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Monitoring and reports"])
