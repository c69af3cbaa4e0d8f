"""The contracts app's URLs: the dashboard, then the answer links, answer form and DEBUG outbox."""

from contracts.urls import answers, dashboard

urlpatterns = [*dashboard.urlpatterns, *answers.urlpatterns]
