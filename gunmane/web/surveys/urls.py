from django.urls import path

from gunmane.web.surveys import views

app_name = "surveys"
urlpatterns = [
    path("", views.index, name="index"),
    path("group/<int:group_pk>/", views.group_surveys, name="group"),
    path("group/<int:group_pk>/new/", views.create, name="create"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/settings/", views.settings_view, name="settings"),
    path("<int:pk>/status/", views.status, name="status"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/preview/", views.preview, name="preview"),
    path("<int:pk>/questionnaire.pdf", views.questionnaire_pdf, name="pdf"),
    path("<int:pk>/questions/new/", views.question_edit, name="question_create"),
    path("<int:pk>/questions/<int:qpk>/", views.question_edit, name="question_edit"),
    path("<int:pk>/questions/<int:qpk>/delete/", views.question_delete, name="question_delete"),
    path("<int:pk>/questions/<int:qpk>/move/", views.question_move, name="question_move"),
    path("<int:pk>/recipients/", views.recipients, name="recipients"),
    path("<int:pk>/recipients/expiry/", views.recipients_expiry, name="recipients_expiry"),
    path("<int:pk>/recipients/<int:rpk>/delete/", views.recipient_delete, name="recipient_delete"),
    path("<int:pk>/links.<str:fmt>", views.links, name="links"),
    path("<int:pk>/results/", views.results, name="results"),
    path("<int:pk>/results.<str:fmt>", views.results_export, name="results_export"),
    path("r/<str:token>/", views.respond, name="respond"),
]
