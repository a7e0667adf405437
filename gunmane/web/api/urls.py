"""The API's URLs (namespace ``api``); each one's rule is in gunmane.web.access.URL_RULES."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularJSONAPIView

from gunmane.web.api import docs, views

app_name = "api"
LEDGER = "municipalities/<str:lg_code>/"
urlpatterns = [
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", docs.docs, name="docs"),
    # public reference data
    path("municipalities/", views.MunicipalityList.as_view(), name="municipality_list"),
    path(LEDGER, views.MunicipalityDetail.as_view(), name="municipality_detail"),
    path(LEDGER + "statistics/", views.YearStatsList.as_view(), name="statistics"),
    # the ledger (bulk before the detail: a facility ID may contain "/")
    path(LEDGER + "facilities/", views.FacilityList.as_view(), name="facility_list"),
    path(LEDGER + "facilities/bulk/", views.FacilityBulk.as_view(), name="facility_bulk"),
    path(LEDGER + "facilities/<path:facility_id>/", views.FacilityDetail.as_view(), name="facility_detail"),
    path(LEDGER + "inspections/", views.InspectionList.as_view(), name="inspection_list"),
    path(LEDGER + "inspections/bulk/", views.InspectionBulk.as_view(), name="inspection_bulk"),
    path(LEDGER + "inspections/<int:pk>/", views.InspectionDetail.as_view(), name="inspection_detail"),
    path(LEDGER + "measures/", views.MeasureList.as_view(), name="measure_list"),
    path(LEDGER + "measures/bulk/", views.MeasureBulk.as_view(), name="measure_bulk"),
    path(LEDGER + "measures/<int:pk>/", views.MeasureDetail.as_view(), name="measure_detail"),
    path(LEDGER + "imports/", views.ImportCreate.as_view(), name="import_create"),
    path(LEDGER + "deterioration/", views.MunicipalityFit.as_view(), name="deterioration"),
    path("imports/<int:import_pk>/", views.ImportDetail.as_view(), name="import_detail"),
    # カルテ
    path("karte/<str:scope>/", views.KarteView.as_view(), name="karte"),
    # groups
    path("groups/", views.GroupList.as_view(), name="group_list"),
    path("groups/<int:group_pk>/", views.GroupDetail.as_view(), name="group_detail"),
    path("groups/<int:group_pk>/karte/", views.GroupKarteView.as_view(), name="group_karte"),
    path("groups/<int:group_pk>/members/", views.MemberList.as_view(), name="group_members"),
    path("groups/<int:group_pk>/invitations/", views.InvitationCreate.as_view(), name="group_invite"),
    path("invitations/", views.InvitationList.as_view(), name="invitations"),
    path("groups/<int:group_pk>/deterioration/", views.GroupFit.as_view(), name="group_deterioration"),
    path("groups/<int:group_pk>/districting/", views.GroupDistricting.as_view(), name="group_districting"),
    path("groups/<int:group_pk>/scenarios/", views.ScenarioList.as_view(), name="scenario_list"),
    path("groups/<int:group_pk>/scenarios/<int:sid>/", views.ScenarioDetail.as_view(), name="scenario_detail"),
    path("groups/<int:group_pk>/scenarios/<int:sid>/result/", views.ScenarioResult.as_view(),
         name="scenario_result"),
    path("groups/<int:group_pk>/scenarios/<int:sid>/lots/", views.ScenarioLots.as_view(), name="scenario_lots"),
    # anything else under /api/: a JSON 404 (not the site's HTML page), whatever the method
    re_path(r"^[\s\S]*$", views.not_found, name="not_found"),
]
