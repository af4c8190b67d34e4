from django.db import models

from . import crypto


class Sealed:
    """A secret as stored: ciphertext, decrypted only when `reveal()` is called.

    Its str() and repr() never contain the secret, so a template, log line or traceback
    that prints it leaks nothing.
    """

    __slots__ = ("stored",)

    def __init__(self, stored: str):
        self.stored = stored

    def reveal(self) -> str:
        return crypto.decrypt(self.stored)

    @property
    def key_id(self) -> str:
        return crypto.stored_key_id(self.stored)

    def __repr__(self) -> str:
        return f"<Sealed secret, key {self.key_id}>"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other.stored == self.stored

    def __hash__(self) -> int:
        return hash(self.stored)


class EncryptedSecretField(models.TextField):
    """A text column holding a secret encrypted with providers.crypto.

    Assign a plain str; it is encrypted when saved and the instance then holds a Sealed.
    Loading never decrypts (a lost key must mark the key "re-enter", not break every page
    listing keys); callers ask `instance.secret.reveal()` at the moment they need it.
    """

    def from_db_value(self, value, expression, connection):
        return None if value is None else Sealed(value)

    def to_python(self, value):
        return value

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = Sealed(crypto.encrypt(value))
            setattr(model_instance, self.attname, value)
        return value

    def get_prep_value(self, value):
        if value is None or isinstance(value, Sealed):
            return None if value is None else value.stored
        return crypto.encrypt(str(value))

    def value_to_string(self, obj):
        # dumpdata and friends get the ciphertext, never the plain secret.
        return self.get_prep_value(self.value_from_object(obj))
