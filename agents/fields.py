"""A model field for frontmatter values that only YAML describes faithfully."""

from __future__ import annotations

from typing import Any

import yaml
from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from .agentfile import AgentFileError, dump_yaml, load_yaml


class YAMLFormField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField", "spellcheck": "false"})

    def prepare_value(self, value: Any) -> str:
        if value is None or isinstance(value, str):
            return value or ""
        return dump_yaml(value)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        if not text.strip():
            return None
        try:
            return load_yaml(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            raise ValidationError(
                f"Not valid YAML{where}: {getattr(exc, 'problem', exc)}", code="invalid"
            ) from None
        except AgentFileError as exc:  # aliases that expand too far
            raise ValidationError(f"Line {exc.line}: {exc.message}", code="invalid") from None


class YAMLField(models.TextField):
    """Stores any YAML value (lists, nested maps, dates, ...) as YAML text.

    JSON would do for most values, but PostgreSQL's jsonb reorders mapping keys and JSON has no
    dates; YAML text keeps both, so a file's values come back exactly as they were read.
    """

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> tuple[Any, ...]:
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("null", None)
        return name, path, args, kwargs

    def to_python(self, value: Any) -> Any:
        # The value is Python data already (YAML is only how it is stored); TextField's to_python,
        # which Model.full_clean calls, would turn a list or mapping into its str().
        return value

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return None
        return yaml.safe_load(value)

    def get_prep_value(self, value: Any) -> str | None:
        if value is None or value == "" or value == [] or value == {}:
            return None
        return dump_yaml(value)

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else dump_yaml(value)

    def formfield(self, **kwargs: Any) -> forms.Field:
        return super().formfield(**{"form_class": YAMLFormField, **kwargs})
