"""A key's webhook settings as its page shows them: the address, and what to set at the provider."""

from dataclasses import dataclass

from providers.models import Credential

from .models import Hook
from .receiver import READERS


@dataclass(frozen=True)
class Instructions:
    # The secret's name at the provider (mid-sentence case), and where to find it.
    label: str
    hint: str
    where: str
    secret_required: bool
    # What to paste at the provider, with {url} for the callback address.
    snippet: str

    def paste(self, url: str) -> str:
        return self.snippet.replace("{url}", url)


INSTRUCTIONS = {
    "apikley": Instructions(
        label="webhook HMAC key",
        hint="From the settings page of your kie.ai / Apikley account (webhookHmacKey). "
        "With it saved, every callback must carry a valid X-Webhook-Signature.",
        where="Pass this address as callBackUrl in every Suno call (generate, extend, cover…). "
        "Each task then reports its stages here, and tasks you have not imported appear by themselves.",
        secret_required=False,
        snippet='"callBackUrl": "{url}"',
    ),
    "audiopod": Instructions(
        label="signing secret",
        hint="The whsec_… secret AudioPod shows once when you register the endpoint.",
        where="Register this address as a webhook endpoint in AudioPod (POST /api/v1/webhooks/endpoints "
        "with events job.completed, job.failed and job.cancelled) and save the signing secret it returns.",
        secret_required=True,
        snippet="curl -X POST https://api.audiopod.ai/api/v1/webhooks/endpoints \\\n"
        '  -H "Authorization: Bearer $AUDIOPOD_API_KEY" -H "Content-Type: application/json" \\\n'
        """  -d '{"url": "{url}", "events": ["job.completed", "job.failed", "job.cancelled"]}'""",
    ),
}


def hook_for(credential: Credential) -> Hook | None:
    """The key's webhook settings, made on first use; None for providers that send none."""
    if credential.provider not in READERS:
        return None
    hook, _ = Hook.objects.get_or_create(credential=credential)
    return hook
