from django.core.management.base import BaseCommand
from django.db import transaction

from providers import crypto
from providers.fields import Sealed
from providers.fingerprint import fingerprint
from providers.models import Credential


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored provider secret under the first key of CREDENTIAL_ENCRYPTION_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then drop the old ones. "
        "Fingerprints (keyed by SECRET_KEY, not by these keys) are recomputed on the way, so run it "
        "once after replacing SECRET_KEY too."
    )

    def handle(self, *args, **options):
        primary, _ = crypto.keyring()
        rotated = current = lost = 0
        for pk in Credential.objects.order_by("pk").values_list("pk", flat=True).iterator():
            with transaction.atomic():
                credential = Credential.objects.select_for_update().filter(pk=pk).first()
                if credential is None:  # deleted meanwhile
                    continue
                try:
                    digest = fingerprint(credential.secret.reveal())
                    if credential.fingerprint != digest:
                        credential.fingerprint = digest
                        credential.save(update_fields=["fingerprint"])
                    if credential.secret.key_id == primary:
                        current += 1
                        continue
                    credential.secret = Sealed(crypto.rotate(credential.secret.stored))
                except crypto.SecretUnavailable:
                    lost += 1
                    credential.status = Credential.Status.REENTER
                    credential.last_error = (
                        "This key can no longer be decrypted (its encryption key is gone). Enter it again."
                    )
                    credential.save(update_fields=["status", "last_error"])
                    self.stderr.write(f"Cannot decrypt key {credential.code} (…{credential.last4}): marked re-enter.")
                    continue
                credential.save(update_fields=["secret"])
                rotated += 1
        self.stdout.write(
            f"Re-encrypted {rotated} secret(s) under key {primary}; {current} already used it; "
            f"{lost} could not be decrypted (their owners must enter them again)."
        )
