"""Service-plan rules. Views, the API and jobs call these."""
