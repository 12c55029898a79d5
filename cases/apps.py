from django.apps import AppConfig


class CasesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "cases"
    verbose_name = "Cases"

    def ready(self) -> None:
        from cases.records.files import files_follow_rows

        # However a row is deleted (a service, the admin, a cascade, a queryset), its
        # stored files go with it once the deletion commits.
        files_follow_rows()
