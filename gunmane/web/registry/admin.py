"""Django admin for reference data, vocabularies and the ledger."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    ImportRecord,
    Inspection,
    Measure,
    Municipality,
    MunicipalYearStats,
    Prefecture,
    Sector,
)


@admin.register(Prefecture)
class PrefectureAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_kana"]
    search_fields = ["name", "name_kana", "code"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["lg_code", "name", "prefecture", "kind", "population", "area_km2"]
    list_filter = ["kind", "prefecture"]
    search_fields = ["lg_code", "name", "name_kana"]


@admin.register(MunicipalYearStats)
class MunicipalYearStatsAdmin(admin.ModelAdmin):
    list_display = ["municipality", "fiscal_year", "population", "civil_engineering_expenditure",
                    "bridges_inspected", "bridges_need_repair", "civil_engineers"]
    list_filter = ["fiscal_year", "municipality__prefecture"]
    search_fields = ["municipality__name", "municipality__lg_code"]
    autocomplete_fields = ["municipality"]
    list_editable = ["civil_engineers"]


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "name_en", "order"]


@admin.register(FacilityType)
class FacilityTypeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "sector", "health_scale", "inspection_cycle_years"]
    list_filter = ["sector"]


@admin.register(Facility)
class FacilityAdmin(SimpleHistoryAdmin):  # 変更履歴 on each row
    list_display = ["facility_id", "name", "manager", "facility_type", "built_year", "latest_grade", "is_synthetic"]
    list_filter = ["sector", "facility_type", "latest_grade", "is_synthetic"]
    search_fields = ["facility_id", "name", "manager__name"]
    raw_id_fields = ["manager"]
    list_select_related = ["manager", "facility_type"]


@admin.register(Inspection)
class InspectionAdmin(SimpleHistoryAdmin):  # 変更履歴 on each row
    list_display = ["facility", "inspected_on", "grade", "kind", "inspector"]
    list_filter = ["grade", "kind"]
    raw_id_fields = ["facility"]


@admin.register(Measure)
class MeasureAdmin(SimpleHistoryAdmin):  # 変更履歴 on each row
    list_display = ["facility", "fiscal_year", "kind", "status", "cost_thousand_yen"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["facility"]


@admin.register(ImportRecord)
class ImportRecordAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "original_name", "municipality", "user", "status", "rows", "invalid"]
    list_filter = ["kind", "status"]
    raw_id_fields = ["municipality", "user"]
    readonly_fields = ["errors", "warnings", "worker_host", "worker_pid", "worker_started_at", "heartbeat_at",
                       "undone_at", "undone_by"]
