from __future__ import annotations

from django import forms

from chat.handles import HANDLE_MAX_CHARS


class HandleForm(forms.Form):
    # Length and shape are checked by chat.handles.validate_handle (the one place for the
    # rule); the form's max_length only bounds what we read.
    handle = forms.CharField(max_length=HANDLE_MAX_CHARS * 4, strip=True,
                             label="New handle")
