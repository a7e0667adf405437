"""Filters for the ledger and municipality lists (django-filter)."""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone

from gunmane.io.values.scales import BAND_LABEL, bands
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    Municipality,
    MunicipalityKind,
    Prefecture,
    Sector,
)

AGE_BANDS = [
    ("0-29", "30年未満"),
    ("30-49", "30〜49年"),
    ("50-", "50年以上"),
    ("unknown", "建設年度不明"),
]
# Facilities of every sector are filtered and sorted by the common band of their latest grade (on road
# structures the band is the 健全性 itself); each grade is shown on its own scale in the list.
GRADE_CHOICES = [(str(b.band), f"{b.band} {b.name}") for b in bands()] + [("none", "未点検")]


class FacilityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="施設名・施設ID・路線名")
    sector = django_filters.ModelChoiceFilter(queryset=Sector.objects.all(), label="分野", empty_label="すべて")
    facility_type = django_filters.ModelChoiceFilter(queryset=FacilityType.objects.all(), label="施設種別",
                                                     empty_label="すべて")
    grade = django_filters.ChoiceFilter(choices=GRADE_CHOICES, method="filter_grade", label=f"最新の判定（{BAND_LABEL}）",
                                        empty_label="すべて")
    age = django_filters.ChoiceFilter(choices=AGE_BANDS, method="filter_age", label="経過年数", empty_label="すべて")
    sort = django_filters.OrderingFilter(
        fields=(("facility_id", "facility_id"), ("name", "name"), ("built_year", "built_year"),
                ("latest_band", "latest_grade"), ("latest_inspected_on", "latest_inspected_on"),
                ("length_m", "length_m")),
        field_labels={"facility_id": "施設ID", "name": "施設名", "built_year": "建設年度", "latest_band": "判定",
                      "latest_inspected_on": "最新点検日", "length_m": "延長"},
        label="並べ替え",
        empty_label="指定なし",
    )

    class Meta:
        model = Facility
        fields = ["q", "sector", "facility_type", "grade", "age"]

    def filter_q(self, qs: QuerySet[Facility], name: str, value: str) -> QuerySet[Facility]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(name__icontains=value) | Q(facility_id__icontains=value) | Q(route__icontains=value))

    def filter_grade(self, qs: QuerySet[Facility], name: str, value: str) -> QuerySet[Facility]:
        if value == "none":
            return qs.filter(latest_grade__isnull=True)
        return qs.filter(latest_band=int(value))

    def filter_age(self, qs: QuerySet[Facility], name: str, value: str) -> QuerySet[Facility]:
        year = timezone.localdate().year
        if value == "unknown":
            return qs.filter(built_year__isnull=True)
        low, _, high = value.partition("-")
        qs = qs.filter(built_year__lte=year - int(low))
        if high:
            qs = qs.filter(built_year__gt=year - int(high) - 1)
        return qs


class MunicipalityFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="団体名・よみ・団体コード")
    prefecture = django_filters.ModelChoiceFilter(queryset=Prefecture.objects.all(), label="都道府県",
                                                  empty_label="すべて")
    kind = django_filters.ChoiceFilter(choices=MunicipalityKind.choices, label="区分", empty_label="すべて")
    sort = django_filters.OrderingFilter(
        fields=(("lg_code", "lg_code"), ("name_kana", "name"), ("population", "population"), ("area_km2", "area"),
                ("bridges", "bridges"), ("repair_share", "repair_share")),
        field_labels={"lg_code": "団体コード", "name_kana": "団体名", "population": "人口", "area_km2": "面積",
                      "bridges": "点検済み橋梁数", "repair_share": "III・IV の割合"},
        label="並べ替え",
        empty_label="指定なし",
    )

    class Meta:
        model = Municipality
        fields = ["q", "prefecture", "kind"]

    def filter_q(self, qs: QuerySet[Municipality], name: str, value: str) -> QuerySet[Municipality]:
        value = value.strip()
        if not value:
            return qs
        return qs.filter(Q(name__contains=value) | Q(name_kana__contains=value) | Q(lg_code__startswith=value)
                         | Q(prefecture__name__contains=value))
