"""``{% quick_result_list cl %}``: the admin's result table, its rows drawn by
``agents.admin.rows.QuickRowsChangeList`` (Django's ``result_list`` for any other list)."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags import admin_list

from ..admin.rows import QuickRowsChangeList

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def quick_result_list(cl: Any) -> dict[str, Any]:
    rows = cl.rows() if isinstance(cl, QuickRowsChangeList) else None
    if rows is None:
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(
            1 for header in headers if header["sortable"] and header["sorted"]
        ),
        "results": rows,
    }
