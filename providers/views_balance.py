"""The low-balance threshold a key's owner sets on its page."""

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .models import Credential


class ThresholdForm(forms.Form):
    below = forms.DecimalField(label="Warn me below", required=False, min_value=0, max_digits=14, decimal_places=4)


@never_cache
@require_POST
def set_threshold(request: HttpRequest, code) -> HttpResponse:
    credential = get_object_or_404(Credential.objects.owned_by(request.user), code=code)
    form = ThresholdForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The warning threshold must be a number of 0 or more (or empty for none).")
    else:
        credential.low_balance_below = form.cleaned_data["below"]
        credential.save(update_fields=["low_balance_below"])
        if credential.low_balance_below is None:
            messages.success(request, "No low-balance warning for this key.")
        else:
            messages.success(request, "Low-balance warning saved.")
    return redirect(credential.get_absolute_url() + "#balance")
