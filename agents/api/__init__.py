"""The REST API under ``/api/``: what the browser can do, for scripts and CI, under the same
rules (``agents.permissions``, ``agents.workflow``, ``agents.agentfile``, ``agents.catalog``)."""
