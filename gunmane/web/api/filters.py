"""The API's filters: the ledger list's own filter set (registry.filtersets), with sectors and types by code."""

from __future__ import annotations

import django_filters

from gunmane.web.registry.filtersets import FacilityFilterSet, MunicipalityFilterSet
from gunmane.web.registry.models import (
    FacilityType,
    Inspection,
    Measure,
    MeasureKind,
    MeasureStatus,
    Prefecture,
    Sector,
)


class FacilityFilter(FacilityFilterSet):
    """The ledger page's filters (q, grade, age, sort); sector and facility type by their code."""

    sector = django_filters.ModelChoiceFilter(queryset=Sector.objects.all(), to_field_name="code", label="分野（コード）")
    facility_type = django_filters.ModelChoiceFilter(queryset=FacilityType.objects.all(), to_field_name="code",
                                                     label="施設種別（コード）")


class MunicipalityFilter(MunicipalityFilterSet):
    """The municipality list's filters; the prefecture by its code; sorted by code, name, population or area."""

    prefecture = django_filters.ModelChoiceFilter(queryset=Prefecture.objects.all(), to_field_name="code",
                                                  label="都道府県（コード）")
    sort = django_filters.OrderingFilter(
        fields=(("lg_code", "lg_code"), ("name_kana", "name"), ("population", "population"), ("area_km2", "area")),
        field_labels={"lg_code": "団体コード", "name_kana": "団体名", "population": "人口", "area_km2": "面積"},
        label="並べ替え")


class InspectionFilter(django_filters.FilterSet):
    facility = django_filters.CharFilter(field_name="facility__facility_id", label="施設ID")
    grade = django_filters.NumberFilter(label="判定区分（施設種別の尺度の番号、1 が最良）")
    band = django_filters.NumberFilter(label="共通の緊急度区分（分野横断の比較用）")
    inspected_from = django_filters.DateFilter(field_name="inspected_on", lookup_expr="gte", label="点検年月日（から）")
    inspected_to = django_filters.DateFilter(field_name="inspected_on", lookup_expr="lte", label="点検年月日（まで）")

    class Meta:
        model = Inspection
        fields = ["facility", "grade", "band", "inspected_from", "inspected_to"]


class MeasureFilter(django_filters.FilterSet):
    facility = django_filters.CharFilter(field_name="facility__facility_id", label="施設ID")
    fiscal_year = django_filters.NumberFilter(label="措置年度")
    kind = django_filters.ChoiceFilter(choices=MeasureKind.choices, label="措置区分")
    status = django_filters.ChoiceFilter(choices=MeasureStatus.choices, label="状態")

    class Meta:
        model = Measure
        fields = ["facility", "fiscal_year", "kind", "status"]
