from django.urls import path

from gunmane.web.guide import catalogue, public

app_name = "guide"
urlpatterns = [
    path("", public.index, name="index"),
    path("concept/", public.concept, name="concept"),
    path("search/", public.search, name="search"),
    path("cases/", catalogue.cases, name="cases"),
    path("process/", catalogue.process, name="process"),
    path("start/", catalogue.start, name="start"),
    path("decisions/", catalogue.decisions, name="decisions"),
    path("foundation/", catalogue.foundation, name="foundation"),
    path("foundation/surveys/<str:key>/", catalogue.survey_template, name="survey_template"),
]
