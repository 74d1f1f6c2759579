"""The admin, for admins: agents with their tools, prompt sections, steps and revisions; the review
queue; the audit trail; the tool registry; the outbox; accounts.

Who may do what comes from ``agents.permissions``; every state change goes through
``agents.workflow``. The admin only shows and asks. Each module registers its own pages.
"""

from django.contrib import admin

from . import (  # noqa: F401 (registers the pages)
    accounts,
    agents,
    collections,
    mail,
    review,
    tokens,
    tools,
    trail,
)

admin.site.site_header = "Agent Portal administration"
admin.site.site_title = "Agent Portal administration"
admin.site.index_title = "Administration"
admin.site.site_url = "/"  # "View site": the portal
