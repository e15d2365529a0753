"""Kefu (客服): customer-service support platform."""

__version__ = "0.1.0"
