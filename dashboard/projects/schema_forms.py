"""Django form fields made from the settings schema (`provisioning.model.schema`).

A field's type, bounds, choices, label, help and group come from the schema; this module only
chooses the widget and turns what was typed into the value the schema reads (a list from
lines, a mapping from KEY=VALUE lines, JSON for anything structured). The final word on the
assembled values is `schema.clean`: its problems are put on the fields they name.

A nested settings model (a stage's `network`) becomes fields of its own, named
`network__cidr`, so each of its settings has its own input.
"""

from __future__ import annotations

import json
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from django import forms
from pydantic import BaseModel

from provisioning.model import schema

NESTED = "__"  # network__cidr: the form name of the dotted path network.cidr
NO_CHOICE = ("", "—")


def _strip(annotation: Any) -> tuple[Any, bool]:
    """The annotation without Annotated wrappers, and whether None is allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(rest) < len(get_args(annotation))
            if len(rest) != 1:
                return annotation, optional
            annotation = rest[0]
        else:
            return annotation, optional


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


class LinesField(forms.CharField):
    """A list of text values: one per line, or separated by commas."""

    widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        return [
            item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()
        ]

    @staticmethod
    def shown(value: Any) -> str:
        return "\n".join(str(v) for v in value or [])


class KeyValueField(forms.CharField):
    """A mapping of names to text: one KEY=VALUE per line."""

    widget = forms.Textarea(attrs={"rows": 2, "spellcheck": "false"})

    def to_python(self, value: Any) -> dict[str, str]:  # type: ignore[override]
        found: dict[str, str] = {}
        for number, line in enumerate(super().to_python(value).splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, text = line.partition("=")
            if not sep or not key.strip():
                raise forms.ValidationError(f"Line {number} is not KEY=VALUE.")
            found[key.strip()] = text.strip()
        return found

    @staticmethod
    def shown(value: Any) -> str:
        return "\n".join(f"{k}={v}" for k, v in (value or {}).items())


class SchemaJSONField(forms.JSONField):
    """Structured settings (a list of indexes, a filter policy): JSON, empty for the default."""

    widget = forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "class": "json"})

    def __init__(self, *, empty: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.empty = empty

    def to_python(self, value: Any) -> Any:
        found = super().to_python(value)
        return json.loads(json.dumps(self.empty)) if found is None else found


def shape(annotation: Any) -> str:
    """What a structured setting looks like, for its help text."""
    inner, _optional = _strip(annotation)
    if _is_model(inner):
        parts = []
        for spec in schema.fields(inner):
            choices = _literal_choices(spec.annotation)
            kind = "|".join(str(c) for c in choices) if choices else _type_word(spec.annotation)
            parts.append(f'"{spec.name}": {kind}')
        return "{" + ", ".join(parts) + "}"
    if get_origin(inner) is list:
        return f"[{shape(get_args(inner)[0])}, ...]"
    if get_origin(inner) is dict:
        return '{"name": [values]}'
    return _type_word(inner)


def _type_word(annotation: Any) -> str:
    inner, _optional = _strip(annotation)
    if get_origin(inner) is list:
        return f"[{_type_word(get_args(inner)[0])}, ...]"
    return getattr(inner, "__name__", "value")


def _literal_choices(annotation: Any) -> tuple[Any, ...]:
    inner, _optional = _strip(annotation)
    return get_args(inner) if get_origin(inner) is Literal else ()


def _choice_label(value: Any) -> str:
    return "any" if value == "*" else str(value)


def form_field(spec: schema.FieldSpec) -> forms.Field:
    """The input for one schema field; `field.group` tells the template where it goes."""
    field = _make_field(spec)
    if not field.required and not _strip(spec.annotation)[1] and spec.default is not None:
        field.empty_default = spec.default  # type: ignore[attr-defined]
    field.label = spec.label
    field.help_text = spec.help
    if spec.secret:
        field.help_text += " Stored encrypted and never shown; leave empty to keep it."
    field.group = spec.group  # type: ignore[attr-defined]
    field.schema_name = spec.name  # type: ignore[attr-defined]
    return field


def _make_field(spec: schema.FieldSpec) -> forms.Field:
    inner, optional = _strip(spec.annotation)
    default = spec.default
    if spec.secret:  # write-only: never rendered back; blank keeps what is stored
        return forms.CharField(
            required=False,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        )
    if inner is bool:
        return forms.BooleanField(required=False, initial=default)
    if inner in (int, float):
        number = forms.IntegerField if inner is int else forms.FloatField
        return number(
            required=False,  # empty: the default
            initial=default,
            min_value=spec.low,
            max_value=spec.high,
        )
    choices = _literal_choices(spec.annotation)
    if choices:
        options = [(c, _choice_label(c)) for c in choices]
        coerce = type(choices[0])
        return forms.TypedChoiceField(
            choices=([NO_CHOICE] if optional else []) + options,
            coerce=coerce,
            empty_value=None,
            required=False,  # empty: the default, or none where that is allowed
            initial=default,
        )
    if inner is str:
        return forms.CharField(
            required=spec.required,  # empty: the default
            initial=default,
            max_length=spec.max_length,
            empty_value=None,
        )
    origin, args = get_origin(inner), get_args(inner)
    if origin is list and args and _literal_choices(args[0]):
        return forms.TypedMultipleChoiceField(
            choices=[(c, _choice_label(c)) for c in _literal_choices(args[0])],
            coerce=type(_literal_choices(args[0])[0]),
            required=False,
            initial=default,
            widget=forms.CheckboxSelectMultiple,
        )
    if origin is list and args and _strip(args[0])[0] is str:
        return LinesField(required=False, initial=LinesField.shown(default))
    if origin is dict and args == (str, str):
        return KeyValueField(required=False, initial=KeyValueField.shown(default))
    field = SchemaJSONField(empty=default, required=False, initial=default or None)
    return field


def _structured_help(spec: schema.FieldSpec) -> str:
    return f"{spec.help} JSON: {shape(spec.annotation)}"


def model_fields(model: type[BaseModel], *, only: set[str] | None = None) -> dict[str, forms.Field]:
    """Form fields for every field of `model` (or the ones named in `only`), in schema order."""
    found: dict[str, forms.Field] = {}
    for spec in schema.fields(model):
        if only is not None and spec.name not in only:
            continue
        inner, _optional = _strip(spec.annotation)
        if _is_model(inner):
            for name, field in model_fields(inner).items():
                found[f"{spec.name}{NESTED}{name}"] = field
            continue
        field = form_field(spec)
        if isinstance(field, SchemaJSONField):
            field.help_text = _structured_help(spec)
        found[spec.name] = field
    return found


def values_from(cleaned: Mapping[str, Any], fields: Mapping[str, forms.Field]) -> dict[str, Any]:
    """The schema's mapping from a form's cleaned data: nested fields folded back in."""
    values: dict[str, Any] = {}
    for name in fields:
        if name not in cleaned:
            continue
        value = cleaned[name]
        if value is None and hasattr(fields[name], "empty_default"):
            value = fields[name].empty_default  # type: ignore[attr-defined]
        head, _sep, tail = name.partition(NESTED)
        if tail:
            values.setdefault(head, {})[tail] = value
        else:
            values[name] = value
    return values


def initial_from(stored: Mapping[str, Any], fields: Mapping[str, forms.Field]) -> dict[str, Any]:
    """The form's initial data for stored settings (a list as lines, a mapping as KEY=VALUE)."""
    initial: dict[str, Any] = {}
    for name, field in fields.items():
        head, _sep, tail = name.partition(NESTED)
        source = stored.get(head) if tail else stored
        key = tail or name
        if not isinstance(source, Mapping) or key not in source:
            continue
        value = source[key]
        if isinstance(field, LinesField):
            value = LinesField.shown(value)
        elif isinstance(field, KeyValueField):
            value = KeyValueField.shown(value)
        elif isinstance(field, SchemaJSONField):
            value = value or None
        initial[name] = value
    return initial


def field_for_problem(path: str, fields: Mapping[str, forms.Field]) -> str | None:
    """Which form field a schema problem at `path` ("network.cidr", "tags.0") belongs to."""
    parts = path.split(".")
    for length in (2, 1):
        name = NESTED.join(parts[:length])
        if len(parts) >= length and name in fields:
            return name
    return None


def _spec_at(model: type[BaseModel], path: str) -> schema.FieldSpec | None:
    """The schema field a dotted problem path names ("network.az_count"), if any."""
    specs = {spec.name: spec for spec in schema.fields(model)}
    head, _sep, rest = path.partition(".")
    spec = specs.get(head)
    if spec is not None and rest and _is_model(_strip(spec.annotation)[0]):
        return _spec_at(_strip(spec.annotation)[0], rest)
    return spec


def problem_message(model: type[BaseModel], path: str, message: str) -> str:
    """A schema problem in the words of the field: "must be from 0 to 43200" where pydantic
    says "Input should be less than or equal to 43200"."""
    spec = _spec_at(model, path)
    if spec is None:
        return message
    number = message.startswith(("Input should be less", "Input should be greater"))
    if number and spec.low is not None and spec.high is not None:
        return f"must be from {spec.low:g} to {spec.high:g}"
    if message == "Field required":
        return "is required"
    if message.startswith("Input should be "):
        return "must be " + message.removeprefix("Input should be ")
    return message


def add_problems(form: forms.Form, error: schema.SettingsError) -> None:
    """Each schema problem as an error on its field (or on the form when it names none)."""
    model = getattr(form, "settings_model", None)
    for path, raw in error.problems:
        message = problem_message(model, path, raw) if model is not None else raw
        field = field_for_problem(path, form.fields)
        if field is not None and field in form.errors:
            continue  # the field's own check already said what is wrong
        if field is None:
            message = f"{path}: {message}"
        elif rest := path.split(".")[len(field.split(NESTED)) :]:  # inside a structured value
            where = " ".join(f"item {int(p) + 1}" if p.isdigit() else p for p in rest)
            message = f"{where}: {message}"
        form.add_error(field, message)


def checked(
    form: forms.Form, model: type[schema.Settings], values: Mapping[str, Any]
) -> dict[str, Any] | None:
    """`values` after `schema.clean`, or None with the problems added to `form`."""
    try:
        return schema.clean(model, values)
    except schema.SettingsError as exc:
        add_problems(form, exc)
        return None


class SettingsForm(forms.Form):
    """A form some of whose fields come from a settings model; `settings_values` gathers them
    and `check_settings` runs the schema's own check over them."""

    settings_model: type[schema.Settings]
    settings_names: frozenset[str] = frozenset()

    def checked_clean(self) -> dict[str, Any]:
        """`clean` for forms that are all settings: the schema's check once the fields pass."""
        cleaned = super().clean() or {}
        if not self.errors:
            self.checked_settings = self.check_settings()
        return cleaned

    def settings(self) -> dict[str, Any]:
        """The checked settings (the schema's defaults filled in), else the raw values."""
        checked = getattr(self, "checked_settings", None)
        return checked if checked is not None else self.settings_values()

    def settings_fields(self) -> dict[str, forms.Field]:
        return {n: f for n, f in self.fields.items() if n in self.settings_names}

    def settings_values(self) -> dict[str, Any]:
        return values_from(self.cleaned_data, self.settings_fields())

    def check_settings(self, values: Mapping[str, Any] | None = None) -> dict[str, Any] | None:
        given = self.settings_values() if values is None else values
        return checked(self, self.settings_model, given)


def settings_form(
    model: type[schema.Settings],
    *,
    base: type[forms.Form] = SettingsForm,
    only: set[str] | None = None,
    name: str = "",
    **attrs: Any,
) -> type[Any]:
    """A form class (or mixin) holding the fields of `model` as generated inputs."""
    fields = model_fields(model, only=only)
    class_name = name or f"{model.__name__.removesuffix('Settings')}SettingsForm"
    namespace = {
        **fields,
        **attrs,
        "settings_model": model,
        "settings_names": frozenset(fields),
        "__module__": __name__,
    }
    return type(class_name, (base,), namespace)
