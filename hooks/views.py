from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from providers import webhooks
from providers.models import Credential

from . import receiver
from .forms import SecretForm
from .models import Hook
from .setup import hook_for

RECEIVER_FIELDS = ("id", "token", "secret", "credential__id", "credential__provider")


def _answer(status: int, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"ok": 200 <= status < 300, "message": message}, status=status)
    for name, value in extra.items():
        response[name] = value
    return response


# No log-in and no CSRF token: providers call this, and the signature (or, for Apikley without
# an HMAC key, the unguessable address) is the check.
@csrf_exempt
@login_not_required
@never_cache
@require_POST
def receive(request: HttpRequest, token: str) -> JsonResponse:
    # Only the columns the receiver reads: this runs for every call.
    hook = Hook.objects.select_related("credential").only(*RECEIVER_FIELDS).filter(token=token).first()
    if hook is None or hook.credential.provider not in receiver.READERS:
        return _answer(404, "Unknown callback address.")
    if wait := receiver.over_limit(hook):
        return _answer(429, "Too many calls for this key; try again later.", **{"Retry-After": str(wait)})
    try:
        body = receiver.read_body(request, request.META.get("CONTENT_LENGTH"))
    except receiver.TooLarge:
        return _answer(413, f"The body is larger than {receiver.max_body():,} bytes.")
    try:
        callback = receiver.check(hook, body, request.headers)
    except webhooks.Rejected as e:
        receiver.count_rejection(hook, e.reason)
        return _answer(401, e.reason)
    event = receiver.store(hook, callback)
    if event is None:
        return _answer(200, "Duplicate event: already received.")
    return _answer(202, "Received.")


def _own_hook(request: HttpRequest, code) -> Hook:
    credential = get_object_or_404(Credential.objects.owned_by(request.user), code=code)
    hook = hook_for(credential)
    if hook is None:  # a provider that sends no webhooks
        raise Http404
    return hook


@never_cache
@require_POST
def save_secret(request: HttpRequest, code) -> HttpResponse:
    hook = _own_hook(request, code)
    if "remove" in request.POST:
        hook.set_secret(None)
        hook.save(update_fields=["secret", "secret_last4"])
        messages.success(request, "Webhook secret removed.")
        return redirect(hook.credential.get_absolute_url() + "#webhooks")
    form = SecretForm(request.POST)
    if form.is_valid():
        hook.set_secret(form.cleaned_data["secret"])
        hook.save(update_fields=["secret", "secret_last4"])
        messages.success(request, f"Secret ending in …{hook.secret_last4} saved: calls are now checked with it.")
    else:
        messages.error(request, " ".join(form.errors.get("secret", ["The secret was not saved."])))
    return redirect(hook.credential.get_absolute_url() + "#webhooks")


@never_cache
@require_POST
def reissue(request: HttpRequest, code) -> HttpResponse:
    hook = _own_hook(request, code)
    hook.reissue()
    hook.save(update_fields=["token", "issued", "rejected", "last_rejected", "last_rejection"])
    messages.success(request, "New callback address issued; the old one no longer works. Update it at the provider.")
    return redirect(hook.credential.get_absolute_url() + "#webhooks")
