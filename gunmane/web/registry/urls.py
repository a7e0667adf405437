from django.urls import path

from gunmane.web.registry import views

app_name = "registry"
urlpatterns = [
    path("municipalities/", views.municipality_list, name="municipality_list"),
    path("municipalities/<str:lg_code>/", views.municipality_detail, name="municipality_detail"),
    path("municipalities/<str:lg_code>/civil-engineers/", views.civil_engineers_update, name="civil_engineers"),
    path("municipalities/<str:lg_code>/facilities/", views.facility_list, name="facility_list"),
    path("municipalities/<str:lg_code>/facility-delete/<path:facility_id>/", views.facility_delete,
         name="facility_delete"),
    path("municipalities/<str:lg_code>/deleted-facilities/", views.deleted_facility_list, name="deleted_facilities"),
    path("municipalities/<str:lg_code>/deleted-facilities/<int:history_id>/restore/", views.facility_restore,
         name="facility_restore"),
    path("municipalities/<str:lg_code>/facilities/<path:facility_id>/", views.facility_detail,
         name="facility_detail"),
    path("municipalities/<str:lg_code>/import/", views.import_create, name="import_create"),
    path("municipalities/<str:lg_code>/export/<str:kind>.<str:fmt>", views.export, name="export"),
    path("imports/", views.import_list, name="import_list"),
    path("imports/<int:pk>/", views.import_detail, name="import_detail"),
    path("imports/<int:pk>/progress.json", views.import_progress, name="import_progress"),
    path("imports/<int:pk>/issues.xlsx", views.import_issues_xlsx, name="import_issues_xlsx"),
    path("imports/<int:pk>/file", views.import_file, name="import_file"),
    path("imports/<int:pk>/undo/", views.import_undo, name="import_undo"),
    path("imports/<int:pk>/rerun/", views.import_rerun, name="import_rerun"),
    path("templates/<str:kind>.xlsx", views.template_download, name="template"),
    path("imports/<int:pk>/quality/", views.national_report, name="national_report"),
    path("national/guide/", views.national_guide, name="national_guide"),
]
