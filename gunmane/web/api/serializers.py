"""What the API reads and writes: the ledger's models as JSON, field names as in the database, labels in Japanese."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from gunmane.io.ledger.grades import band_of
from gunmane.io.values.parsing import InvalidValue, normalize_text
from gunmane.io.values.scales import read_scale_value
from gunmane.web.groups.models import EffectScenario, Group, GroupMember, SavedDistricting
from gunmane.web.registry.models import (
    Facility,
    FacilityType,
    ImportKind,
    ImportRecord,
    Inspection,
    Measure,
    Municipality,
    MunicipalYearStats,
)


class MunicipalitySerializer(serializers.ModelSerializer[Municipality]):
    prefecture_code = serializers.CharField(source="prefecture.code", read_only=True, label="都道府県コード")
    prefecture_name = serializers.CharField(source="prefecture.name", read_only=True, label="都道府県名")
    kind_label = serializers.CharField(source="get_kind_display", read_only=True, label="区分（表示名）")

    class Meta:
        model = Municipality
        fields = ["lg_code", "name", "name_kana", "kind", "kind_label", "prefecture_code", "prefecture_name",
                  "population", "area_km2", "office_lat", "office_lon", "website", "publishes_ledger_figures"]
        read_only_fields = fields


class YearStatsSerializer(serializers.ModelSerializer[MunicipalYearStats]):
    class Meta:
        model = MunicipalYearStats
        fields = ["fiscal_year", "population", "civil_engineering_expenditure", "total_expenditure", "road_length_m",
                  "bridges_inspected", "bridges_need_repair", "fiscal_capability_index", "elderly_ratio",
                  "civil_engineers", "extra", "source"]
        read_only_fields = fields


class FacilitySerializer(serializers.ModelSerializer[Facility]):
    """A facility of the municipality in the URL (its manager); the sector follows the facility type."""

    facility_type = serializers.SlugRelatedField(slug_field="code", queryset=FacilityType.objects.all(),
                                                 label="施設種別")
    sector = serializers.SlugRelatedField(slug_field="code", read_only=True, label="分野")
    manager = serializers.CharField(source="manager.lg_code", read_only=True, label="本来管理者（団体コード）")
    latest_grade_label = serializers.CharField(source="get_latest_grade_display", read_only=True,
                                               label="最新の判定区分（施設種別の尺度での表示）")

    class Meta:
        model = Facility
        fields = ["facility_id", "manager", "name", "name_kana", "sector", "facility_type", "national_id",
                  "built_year", "length_m", "width_m", "area_m2", "lat", "lon", "route", "address", "structure",
                  "note", "attributes", "is_synthetic", "latest_grade", "latest_grade_label", "latest_band",
                  "latest_inspected_on", "created_at", "updated_at"]
        read_only_fields = ["is_synthetic", "latest_grade", "latest_band", "latest_inspected_on", "created_at",
                            "updated_at"]
        extra_kwargs = {"built_year": {"min_value": 1800, "max_value": 2100},
                        "lat": {"min_value": -90, "max_value": 90}, "lon": {"min_value": -180, "max_value": 180},
                        "length_m": {"min_value": 0}, "width_m": {"min_value": 0}, "area_m2": {"min_value": 0}}
        # the (manager, facility_id) uniqueness is checked in validate_facility_id (manager is the URL's)
        validators: list[Any] = []

    def validate_facility_id(self, value: str) -> str:
        value = value.strip()
        if not value:
            raise serializers.ValidationError("施設IDを入力してください。")
        municipality = self.context["municipality"]
        qs = Facility.objects.filter(manager=municipality, facility_id=value)
        if self.instance is not None:
            qs = qs.exclude(pk=self.instance.pk)
        if qs.exists():
            raise serializers.ValidationError(f"施設ID「{value}」の施設は{municipality.name}の台帳にすでにあります。")
        return value

    def validate_attributes(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("その他の属性は、名前と値の組（JSON のオブジェクト）で指定してください。")
        return value

    def create(self, validated_data: dict[str, Any]) -> Facility:
        validated_data["sector_id"] = validated_data["facility_type"].sector_id
        return super().create({**validated_data, "manager": self.context["municipality"]})

    def update(self, instance: Facility, validated_data: dict[str, Any]) -> Facility:
        if "facility_type" in validated_data:
            validated_data["sector_id"] = validated_data["facility_type"].sector_id
        return super().update(instance, validated_data)


class FacilityRef(serializers.SlugRelatedField[Facility]):
    """A facility named by its 施設ID, among the facilities of the URL's municipality."""

    def get_queryset(self) -> Any:
        return Facility.objects.filter(manager=self.context["municipality"])


class _ChildSerializer(serializers.ModelSerializer[Any]):
    facility = FacilityRef(slug_field="facility_id", label="施設ID")
    #: the natural key besides the facility (the database's unique constraint), said in Japanese
    natural_key: tuple[str, ...] = ()
    duplicate_message = ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        merged = {k: getattr(self.instance, k) for k in ("facility", *self.natural_key)} if self.instance else {}
        merged.update({k: v for k, v in attrs.items() if k in ("facility", *self.natural_key)})
        if all(k in merged for k in ("facility", *self.natural_key)):
            qs = self.Meta.model.objects.filter(**merged)
            if self.instance is not None:
                qs = qs.exclude(pk=self.instance.pk)
            if qs.exists():
                raise serializers.ValidationError(self.duplicate_message.format(**merged))
        return attrs


@extend_schema_field({"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
                      "description": "読むときは尺度の番号（1 が最良）。登録は番号か尺度の書き方（Ⅲ、C、緊急度Ⅱ、MCI 3.5）"})
class GradeField(serializers.Field):
    """A grade as written on the facility type's scale (「C」「緊急度Ⅱ」「Ⅲ」「MCI 3.5」, or a road 健全性 as 1–4);
    read on the scale in InspectionSerializer.validate, shown as its index on the scale (1 = best)."""

    def to_internal_value(self, data: Any) -> Any:
        if data is None or isinstance(data, bool) or not isinstance(data, (str, int, float)):
            raise serializers.ValidationError("判定区分を文字か数で指定してください。")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class InspectionSerializer(_ChildSerializer):
    natural_key = ("inspected_on", "kind")
    duplicate_message = "{facility}の{inspected_on}の{kind}はすでに登録されています。"
    grade = GradeField(label="判定区分（施設種別の尺度の番号。1 が最良。登録は尺度の書き方で：Ⅲ、C、緊急度Ⅱ など）")
    grade_label = serializers.CharField(source="get_grade_display", read_only=True, label="判定区分（尺度での表示）")
    band = serializers.IntegerField(read_only=True, allow_null=True, label="共通の緊急度区分（分野横断の比較用）")
    measured_value = serializers.FloatField(required=False, allow_null=True, label="測定値（舗装の MCI）")

    class Meta:
        model = Inspection
        fields = ["id", "facility", "inspected_on", "grade", "grade_label", "grade_raw", "band", "measured_value",
                  "inspector", "kind", "source", "source_fiscal_year", "source_file", "source_row"]
        read_only_fields = ["source", "source_fiscal_year", "source_file", "source_row"]
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The grade read on the facility type's scale (as the ledger import reads it), its band and MCI."""
        attrs = super().validate(attrs)
        facility = attrs.get("facility") or (self.instance.facility if self.instance is not None else None)
        if facility is None or ("grade" not in attrs and "measured_value" not in attrs and "facility" not in attrs):
            return attrs
        sc = facility.facility_type.scale
        raw = attrs.get("grade", self.instance.grade_raw or self.instance.grade if self.instance else None)
        try:
            reading = read_scale_value(raw, sc).value if raw is not None else None
            measured = attrs.get("measured_value")
            if measured is not None:
                if sc.measured is None:
                    raise serializers.ValidationError({"measured_value": f"{sc.name}には MCI のような測定値がありません。"})
                m = read_scale_value(measured, sc, as_measured=True).value
                if reading is None and m is not None:
                    reading = m
                measured = m.measured if m is not None else None
        except InvalidValue as exc:
            raise serializers.ValidationError({"grade": f"{exc.message_ja}（{facility.facility_type.name}は{sc.name}）"}
                                              ) from None
        if reading is None:
            raise serializers.ValidationError({"grade": f"判定区分を入力してください（{sc.subject}は {sc.accepted}）。"})
        attrs["grade"] = reading.grade
        attrs["measured_value"] = measured if measured is not None else reading.measured
        if raw is not None and "grade_raw" not in attrs:
            attrs["grade_raw"] = normalize_text(raw)[:40]
        attrs["band"] = band_of(sc, reading.grade)
        return attrs


class MeasureSerializer(_ChildSerializer):
    natural_key = ("fiscal_year", "kind")
    duplicate_message = "{facility}の{fiscal_year}年度の{kind}はすでに登録されています。"

    class Meta:
        model = Measure
        fields = ["id", "facility", "kind", "fiscal_year", "status", "cost_thousand_yen", "note"]
        extra_kwargs = {"fiscal_year": {"min_value": 1900, "max_value": 2200},
                        "cost_thousand_yen": {"min_value": 0}}
        validators: list[Any] = []


class ImportCreateSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=[(k.value, k.label) for k in ImportKind
                                            if k in (ImportKind.FACILITIES, ImportKind.INSPECTIONS,
                                                     ImportKind.MEASURES)], label="取り込む表")
    file = serializers.FileField(label="ファイル")
    dry_run = serializers.BooleanField(default=False, label="検証のみ")
    skip_invalid = serializers.BooleanField(default=False, label="エラー行を除いて取り込む")
    clear_blanks = serializers.BooleanField(default=False, label="空欄で値を消す")


class ImportRecordSerializer(serializers.ModelSerializer[ImportRecord]):
    municipality = serializers.CharField(source="municipality.lg_code", read_only=True, allow_null=True,
                                         label="団体コード")
    progress_percent = serializers.IntegerField(read_only=True, label="進み具合（%）")
    finished = serializers.BooleanField(source="is_finished", read_only=True, label="終わったか")
    report = serializers.SerializerMethodField(label="結果（gunmane import --format json と同じ形）")

    class Meta:
        model = ImportRecord
        fields = ["id", "kind", "municipality", "status", "created_at", "finished_at", "original_name", "dry_run",
                  "skip_invalid", "rows_total", "rows_processed", "progress_percent", "finished", "message",
                  "report"]
        read_only_fields = fields

    def get_report(self, record: ImportRecord) -> dict[str, Any] | None:
        """The CLI's report (gunmane import --format json): counts, errors and warnings as the importer wrote them."""
        if not record.is_finished:
            return None
        status = "invalid" if record.status == "failed" else ("dry_run" if record.dry_run else "ok")
        return {"status": status, "rows": record.rows, "valid": record.valid, "invalid": record.invalid,
                "created": record.created, "updated": record.updated, "unchanged": record.unchanged,
                "errors": record.errors, "warnings": record.warnings,
                "unused_columns": record.unused_columns, "import_id": record.pk}


class MemberSerializer(serializers.ModelSerializer[GroupMember]):
    lg_code = serializers.CharField(source="municipality.lg_code", read_only=True, label="団体コード")
    name = serializers.CharField(source="municipality.name", read_only=True, label="団体名")
    role_label = serializers.CharField(source="get_role_display", read_only=True, label="役割（表示名）")
    status_label = serializers.CharField(source="get_status_display", read_only=True, label="参加の状態（表示名）")

    class Meta:
        model = GroupMember
        fields = ["id", "lg_code", "name", "role", "role_label", "status", "status_label", "invited_at",
                  "responded_at"]
        read_only_fields = fields


class GroupSerializer(serializers.ModelSerializer[Group]):
    members = serializers.SerializerMethodField(label="参加を承諾した構成団体")

    class Meta:
        model = Group
        fields = ["id", "name", "description", "collaboration_types", "created_at", "members"]
        read_only_fields = fields

    def get_members(self, group: Group) -> list[dict[str, Any]]:
        return MemberSerializer(group.accepted_members().select_related("municipality"), many=True).data


class InvitationCreateSerializer(serializers.Serializer[Any]):
    municipality = serializers.CharField(label="招待する団体（団体コード）")
    role = serializers.CharField(default="member", label="役割")


class ScenarioSerializer(serializers.ModelSerializer[EffectScenario]):
    class Meta:
        model = EffectScenario
        fields = ["id", "name", "toml", "chosen_index", "updated_at"]
        read_only_fields = ["id", "name", "updated_at"]


class ScenarioCreateSerializer(serializers.Serializer[Any]):
    toml = serializers.CharField(required=False, allow_blank=True, label="シナリオファイル（TOML）")
    document = serializers.DictField(required=False, label="シナリオ（TOML と同じ内容の JSON）")
    chosen_index = serializers.IntegerField(required=False, min_value=0, max_value=50,
                                            label="文書に使うシナリオ（番号）")


class JobStateSerializer(serializers.Serializer[Any]):
    """The state of work on the task queue (HTTP 202 until it is ready; gunmane.web.jobs.service.state)."""

    status = serializers.ChoiceField(choices=["queued", "running", "done", "failed"], label="状態")
    status_label = serializers.CharField(label="状態（日本語）")
    progress = serializers.IntegerField(min_value=0, max_value=100, label="進み具合（%）")
    message = serializers.CharField(allow_blank=True, label="状況")
    finished = serializers.BooleanField(label="終わったか")
    ready = serializers.BooleanField(label="結果ができたか")
    status_url = serializers.CharField(label="進み具合を読むアドレス")


class KarteQuerySerializer(serializers.Serializer[Any]):
    fiscal_year = serializers.IntegerField(required=False, min_value=2020, max_value=2024, label="年度")


class FitQuerySerializer(serializers.Serializer[Any]):
    merge_iv = serializers.BooleanField(required=False, default=False, label="Ⅳ をⅢにまとめる")


class DistrictingSerializer(serializers.ModelSerializer[SavedDistricting]):
    districts = serializers.IntegerField(read_only=True, label="地区の数")
    assignment = serializers.SerializerMethodField(label="施設ごとの地区（施設ID → 地区の番号）")

    class Meta:
        model = SavedDistricting
        fields = ["districts", "parameters", "summary", "updated_at", "assignment"]
        read_only_fields = fields

    def get_assignment(self, saved: SavedDistricting) -> dict[str, Any]:
        """The saved assignment is by the ledger's internal number; integrators know the 施設ID (with its manager)."""
        ids = dict(Facility.objects.filter(pk__in=[int(k) for k in saved.assignment])
                   .values_list("pk", "manager__lg_code"))
        names = dict(Facility.objects.filter(pk__in=list(ids)).values_list("pk", "facility_id"))
        return {f"{ids[int(k)]}/{names[int(k)]}": v for k, v in saved.assignment.items() if int(k) in ids}
