from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from .forms import CredentialForm, RenameForm, ReplaceSecretForm
from .models import Credential
from .registry import PROVIDERS
from .replace import NotReplaced, replace_secret

# Every key page is sent with Cache-Control: no-store (never_cache), so no key metadata
# lingers in a shared or back-button cache.


def _own_credential(request, code) -> Credential:
    """The signed-in person's key, or 404 for everyone else (no hint that it exists)."""
    return get_object_or_404(Credential.objects.owned_by(request.user), code=code)


def _report_check(request, credential: Credential) -> None:
    if credential.status == Credential.Status.OK:
        messages.success(request, f"{credential.get_provider_display()} accepted the key.")
    elif credential.status == Credential.Status.REJECTED:
        messages.error(request, f"{credential.get_provider_display()} rejected the key: {credential.last_error}")
    elif credential.status == Credential.Status.OUT_OF_CREDITS:
        messages.warning(
            request,
            f"{credential.get_provider_display()} knows the key, but its account has no credits left: "
            f"{credential.last_error} Genboard syncs it hourly until you top up and check it again.",
        )
    else:
        messages.warning(
            request,
            f"The key is saved, but {credential.get_provider_display()} could not be asked about it: "
            f"{credential.last_error} It will be checked again on the next sync.",
        )


@never_cache
def key_list(request):
    credentials = Credential.objects.owned_by(request.user).annotate(job_count=Count("jobs"))
    return render(request, "providers/list.html", {"credentials": credentials})


@never_cache
def key_new(request):
    form = CredentialForm(request.POST or None, owner=request.user)
    if request.method == "POST" and form.is_valid():
        credential = form.save()
        credential.check_with_provider()
        _report_check(request, credential)
        return redirect(credential)
    return render(request, "providers/new.html", {"form": form, "providers": PROVIDERS.values()})


@never_cache
def key_detail(request, code):
    credential = _own_credential(request, code)
    rename_form, secret_form = RenameForm(instance=credential), ReplaceSecretForm(credential=credential)
    refused = ""  # the provider's answer to a new secret that was not saved
    if request.method == "POST":
        if "label" in request.POST:
            rename_form = RenameForm(request.POST, instance=credential)
            if rename_form.is_valid():
                rename_form.save()
                messages.success(request, "Label saved.")
                return redirect(credential)
        elif "secret" in request.POST:
            secret_form = ReplaceSecretForm(request.POST, credential=credential, offer_anyway="anyway" in request.POST)
            if secret_form.is_valid():
                data = secret_form.cleaned_data
                try:
                    replace_secret(credential, data["secret"], anyway=data.get("anyway", False))
                except NotReplaced as e:
                    secret_form = ReplaceSecretForm(credential=credential, offer_anyway=e.checkable)
                    refused = e.message
                else:
                    _report_check(request, credential)
                    return redirect(credential)
    context = {
        "credential": credential,
        "rename_form": rename_form,
        "secret_form": secret_form,
        "refused": refused,
        "job_count": credential.jobs.count(),
    }
    return render(request, "providers/detail.html", context, status=400 if request.method == "POST" else 200)


@never_cache
@require_POST
def key_check(request, code):
    credential = _own_credential(request, code)
    credential.check_with_provider()
    _report_check(request, credential)
    return redirect(credential)


@never_cache
def key_delete(request, code):
    credential = _own_credential(request, code)
    if request.method == "POST":
        label = credential.label
        credential.delete()
        messages.success(request, f"Key “{label}” and the history imported through it were deleted from Genboard.")
        return redirect("providers:list")
    return render(request, "providers/delete.html", {"credential": credential, "job_count": credential.jobs.count()})
