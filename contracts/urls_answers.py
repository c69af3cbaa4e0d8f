"""URLs of the answer links, the dashboard's answer form and the DEBUG outbox."""

from django.urls import path

from contracts import views_answers, views_outbox

urlpatterns = [
    path("answer/<str:token>/", views_answers.answer_link, name="answer_link"),
    path("proposals/<int:pk>/answer/", views_answers.proposal_answer, name="proposal_answer"),
    path("outbox/", views_outbox.outbox, name="outbox"),
    path("outbox/<int:pk>/", views_outbox.outbox_email, name="outbox_email"),
]
