"""The admin's lists of agents and submissions, drawn at the cost of their columns.

Django's changelist spends most of a page of 50 agents on its own machinery, not on the
columns: for every cell it looks the column up again (a failed ``get_field`` for each method
column), and for every row it resolves the row's URL once more (to tell whether it is the
list's own) and renders the action checkbox through the form renderer's templates. Here the
columns are looked up once a page, the row URL reversed once a page, and each row's cells are
written as the HTML Django writes for them (the same classes, links and values), so the page
reads the same and its sorting, filters, search, actions and links all work as before.

A list Django must draw itself (a popup, ``list_editable``, a column that is neither a model
field nor a method of the admin) is drawn by Django.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.templatetags.admin_list import ResultList
from django.contrib.admin.utils import display_for_field, display_for_value, quote
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

ROW_KEY = "__row_key__"  # stands for a row's key in its link, built once a page

Cell = Callable[[Any], str]  # a cell's HTML


class QuickRowsChangeList(ChangeList):
    """Django's ChangeList (the same queries, filters, sorting and pagination), whose rows are
    written by ``rows()`` for the ``quick_result_list`` tag."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "_changelist_filters=q%3Dpython": the row links carry it (url_for_result), as
        # Django's add_preserved_filters would add it; given none, that tag resolves nothing.
        filters, self.preserved_filters = self.preserved_filters, ""
        # One reverse for the page: quote() leaves a key letters, digits and "_", which
        # reverse() would not have escaped either.
        url = reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[ROW_KEY],
            current_app=self.model_admin.admin_site.name,
        )
        self.row_url = f"{url}?{filters}" if filters else url

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.model_admin.prepare_rows(list(self.result_list))  # fetched here, once

    def url_for_result(self, result: Any) -> str:
        return self.row_url.replace(ROW_KEY, str(quote(getattr(result, self.pk_attname))), 1)

    def rows(self) -> list[ResultList] | None:
        """Each row as one piece of HTML (its cells), or None: Django draws this list."""
        if self.is_popup or self.formset is not None:
            return None
        cells = self.cell_writers()
        if cells is None:
            return None
        return [
            # Each cell escapes its value (cell_writer).
            ResultList(None, [mark_safe("".join([cell(result) for cell in cells]))])  # noqa: S308
            for result in self.result_list
        ]

    def cell_writers(self) -> list[Cell] | None:
        """One function a column, writing its cell as Django's items_for_result does."""
        writers = []
        first = True
        for name in self.list_display:
            if not isinstance(name, str):
                return None
            try:
                field = self.lookup_opts.get_field(name)
            except FieldDoesNotExist:
                field = None
            method = None
            if field is None:
                method = getattr(self.model_admin, name, None)
                if not callable(method):
                    return None  # a model property or method: Django's lookup
            elif field.auto_created or (
                field.is_relation and not (field.many_to_one and field.related_model)
            ):
                return None
            elif field.is_relation and field.attname == name:
                return None  # "owner_id": Django shows the raw id
            links = self.list_display_links
            link = links is not None and ((first and not links) or name in links)
            tag = "th" if link and first else "td"
            first = first and not link
            writers.append(self.cell_writer(name, field, method, link, tag))
        return writers

    def cell_writer(self, name: str, field: Any, method: Any, link: bool, tag: str) -> Cell:
        empty = self.model_admin.get_empty_value_display()
        boolean = False
        if method is not None:
            empty = getattr(method, "empty_value_display", empty)
            boolean = getattr(method, "boolean", False)
        classes = "action-checkbox" if name == "action_checkbox" else f"field-{name}"
        icons: dict[Any, str] = {}  # a boolean's icon, drawn once a page (static() a row)

        def cell(result: Any) -> str:
            nowrap = False
            if method is not None:
                value = method(result)
                if isinstance(value, str) and value.strip() == "":
                    value = ""
                if boolean and value in (True, False, None):
                    if value not in icons:
                        icons[value] = display_for_value(value, empty, boolean)
                    shown = icons[value]
                else:
                    shown = display_for_value(value, empty, boolean)
                nowrap = isinstance(value, (datetime.date, datetime.time))
            elif field.is_relation:
                value = getattr(result, field.name)
                shown = empty if value is None else value
                nowrap = True
            else:
                value = getattr(result, name)
                if isinstance(value, str) and value.strip() == "":
                    value = ""
                shown = display_for_field(value, field, empty, avoid_link=link)
                nowrap = isinstance(field, (models.DateField, models.TimeField))
            # As format_html would write them, without its per-argument machinery (400 cells a
            # page): the tag and classes are ours, the value escaped unless it is safe HTML.
            shown = shown.__html__() if hasattr(shown, "__html__") else html.escape(str(shown))
            if link:
                shown = f'<a href="{html.escape(self.url_for_result(result))}">{shown}</a>'
            return (
                f'<{tag} class="{classes} nowrap">{shown}</{tag}>'
                if nowrap
                else (f'<{tag} class="{classes}">{shown}</{tag}>')
            )

        return cell


class QuickRowsAdmin(admin.ModelAdmin):
    """An admin whose list is drawn by QuickRowsChangeList (its template's ``result_list``
    block uses the ``quick_result_list`` tag), with the action checkbox written as the HTML
    Django's widget renders."""

    change_list_template = "admin/agents/quick_change_list.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return QuickRowsChangeList

    def prepare_rows(self, rows: list[Any]) -> None:
        """Load what the page's rows show beside their own columns (their tools, say)."""

    def action_checkbox(self, obj: Any) -> str:
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )
