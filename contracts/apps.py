from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts"

    def ready(self) -> None:
        # Registers the workflow tasks and the webhook event listener in every process (web and worker).
        from contracts import tasks  # noqa: F401
