from __future__ import annotations

from django import forms

from chat.handles import HANDLE_MAX_CHARS


class HandleForm(forms.Form):
    # Length and shape are checked by chat.handles.validate_handle (the one place for the
    # rule); the form's max_length only bounds what we read.
    handle = forms.CharField(max_length=HANDLE_MAX_CHARS * 4, strip=True,
                             label="New handle")


class AppealForm(forms.Form):
    text = forms.CharField(max_length=1000, strip=True, label="Why should we look again?")
    sanction_id = forms.IntegerField(required=False, min_value=1)
    message_id = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if bool(data.get("sanction_id")) == bool(data.get("message_id")):
            raise forms.ValidationError("An appeal is about one sanction or one message.")
        return data


class ForgetForm(forms.Form):
    # Erasing can't be undone, so it is never one click: the box must be ticked.
    confirm = forms.BooleanField(
        required=True, label="I understand this erases everything and can't be undone",
        error_messages={"required": "Please tick the box to confirm. Nothing has been erased."})
