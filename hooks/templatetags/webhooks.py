from django import template

from ..setup import INSTRUCTIONS, hook_for

register = template.Library()


@register.inclusion_tag("hooks/key_section.html", takes_context=True)
def webhook_section(context, credential) -> dict:
    """The webhook card on a key's page (nothing for providers that send no webhooks)."""
    hook = hook_for(credential)
    if hook is None:
        return {"hook": None}
    request = context["request"]
    paste = INSTRUCTIONS[credential.provider].paste(request.build_absolute_uri(hook.get_absolute_url()))
    return {
        "hook": hook,
        "credential": credential,
        "address": request.build_absolute_uri(hook.get_absolute_url()),
        "latest": hook.latest_event(),
        "how": INSTRUCTIONS[credential.provider],
        "paste": paste,
        "multiline": "\n" in paste,
        "csrf_token": context.get("csrf_token"),
    }
