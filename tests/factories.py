"""Small builders for test data (no factory library: three functions do)."""

from providers.models import Credential


def make_credential(owner, provider: str = "apimall", label: str = "", secret: str = "", **fields) -> Credential:
    secret = secret or f"sim-{provider}-test"
    credential = Credential(owner=owner, provider=provider, label=label or f"{provider} key", **fields)
    credential.set_secret(secret)
    for name, value in fields.items():  # set_secret resets the status fields
        setattr(credential, name, value)
    credential.save()
    return credential
