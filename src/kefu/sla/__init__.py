"""SLA clocks and deadlines (business-time arithmetic)."""
