from django.urls import path

from gunmane.web.analysis import districting_views, lifecycle_views, unit_prices, views

app_name = "analysis"
urlpatterns = [
    path("karte/", views.national, name="national"),
    path("karte/districting/", districting_views.national_districting, name="national_districting"),
    path("karte/map.json", views.map_data, name="map_data"),
    path("karte/series.csv", views.series_csv, name="series_csv"),
    path("karte/pref/<str:code>/", views.prefecture, name="prefecture"),
    path("karte/group/<int:pk>/", views.group, name="group"),
    path("karte/groups/", views.groups_index, name="groups"),
    path("karte/<str:lg_code>/", views.municipality, name="municipality"),
    path("karte/<str:lg_code>/publish/", views.publish_ledger_figures, name="publish"),
    path("deterioration/pairs/", lifecycle_views.deterioration_pairs, name="deterioration_pairs"),
    path("deterioration/<str:spec>/", lifecycle_views.deterioration, name="deterioration"),
    path("lcc/unit-prices/<str:lg_code>/", unit_prices.unit_prices, name="unit_prices"),
    path("lcc/<str:spec>/", lifecycle_views.lcc, name="lcc"),
    path("plan/<str:spec>/", lifecycle_views.plan, name="plan"),
]
