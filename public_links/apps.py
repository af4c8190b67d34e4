from django.apps import AppConfig


class PublicLinksConfig(AppConfig):
    name = "public_links"
    verbose_name = "Public links"
