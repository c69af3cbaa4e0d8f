"""URLs of the answer links, the dashboard's answer form and the DEBUG outbox."""

from django.urls import path

from contracts.views import answers, outbox

urlpatterns = [
    path("answer/<str:token>/", answers.answer_link, name="answer_link"),
    path("proposals/<int:pk>/answer/", answers.proposal_answer, name="proposal_answer"),
    path("outbox/", outbox.outbox, name="outbox"),
    path("outbox/<int:pk>/", outbox.outbox_email, name="outbox_email"),
]
