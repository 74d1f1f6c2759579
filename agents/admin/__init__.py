"""The admin, for admins: agents with their tools, prompt sections, steps and revisions; the review
queue; the audit trail; the tool registry; the outbox; accounts.

Who may do what comes from ``agents.permissions``; every state change goes through
``agents.workflow``. The admin only shows and asks. Each module registers its own pages.
"""

from . import accounts, agents, mail, review, tools, trail  # noqa: F401 (registers the pages)
