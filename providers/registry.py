"""The providers Genboard knows: one dict builds the provider choices everywhere."""

from .apikley import Apikley
from .apimall import ApiMall
from .audiopod import AudioPod
from .base import Provider
from .munsit import Munsit

PROVIDERS: dict[str, type[Provider]] = {cls.slug: cls for cls in (ApiMall, Apikley, AudioPod, Munsit)}
CHOICES = [(slug, cls.name) for slug, cls in PROVIDERS.items()]
