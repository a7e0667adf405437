"""The API's views: public reference data, the ledger, imports, カルテ, groups and 効果試算.

Every view's rule is the URL table's (access.URL_RULES, namespace ``api``), checked by api.permissions.UrlRule
with the web's own permission functions; list views page (api.pagination) and filter (api.filters).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from typing import Any

import tomli_w
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers, status
from rest_framework.decorators import api_view
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from gunmane.engine.costing import CostingError
from gunmane.engine.effects import EffectsError
from gunmane.io.scenario import ScenarioFileError, engine_scenarios, read_scenario
from gunmane.web.analysis import lifecycle_views
from gunmane.web.analysis import services as karte_services
from gunmane.web.api import serializers as s
from gunmane.web.api.filters import FacilityFilter, InspectionFilter, MeasureFilter, MunicipalityFilter
from gunmane.web.api.permissions import group_in_path, municipality_in_path
from gunmane.web.groups import effects
from gunmane.web.groups import permissions as group_permissions
from gunmane.web.groups.forms import MemberInviteForm
from gunmane.web.groups.models import EffectScenario, GroupMember, MemberStatus, SavedDistricting
from gunmane.web.jobs import service as jobs
from gunmane.web.jobs.models import Job
from gunmane.web.registry import history
from gunmane.web.registry.imports import records
from gunmane.web.registry.imports.bulk import refresh_latest_grades
from gunmane.web.registry.models import Facility, Inspection, Measure, Municipality, MunicipalYearStats

#: the most items one bulk request may create (all or nothing, in one transaction)
BULK_LIMIT = 1000
ANY_JSON = OpenApiTypes.OBJECT



def schema_only(view: Any) -> bool:
    """drf-spectacular builds the schema with views that have no request objects: their model is enough."""
    return bool(getattr(view, "swagger_fake_view", False))


@extend_schema(exclude=True)
@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request: Request) -> Response:
    """A URL under /api/ that names no resource (also a path parameter of the wrong form, as -1 for a number)."""
    raise NotFound("この URL の API はありません（/api/docs/ で一覧を確認してください）。")


# --------------------------------------------------------------------------- public reference data


class MunicipalityList(generics.ListAPIView[Municipality]):
    """団体（都道府県・市区町村）の一覧。公開データ。"""

    serializer_class = s.MunicipalitySerializer
    filterset_class = MunicipalityFilter
    queryset = Municipality.objects.select_related("prefecture").order_by("lg_code")


class MunicipalityDetail(generics.RetrieveAPIView[Municipality]):
    """一つの団体。公開データ。"""

    serializer_class = s.MunicipalitySerializer
    queryset = Municipality.objects.select_related("prefecture")
    lookup_field = "lg_code"


class YearStatsList(generics.ListAPIView[Any]):
    """団体の年度ごとの参照統計（人口・土木費・道路延長・点検済み橋梁数など、出典つき）。公開データ。"""

    serializer_class = s.YearStatsSerializer

    def get_queryset(self) -> QuerySet[Any]:
        if schema_only(self):
            return MunicipalYearStats.objects.none()
        muni = get_object_or_404(Municipality, lg_code=self.kwargs["lg_code"])
        return muni.year_stats.order_by("fiscal_year")


# --------------------------------------------------------------------------- the ledger


class LedgerMixin:
    """Views over the ledger of the municipality in the URL (the permission has found it already)."""

    kwargs: dict[str, Any]
    request: Request

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()  # type: ignore[misc]
        context["municipality"] = municipality_in_path(self)
        return context


class FacilityList(LedgerMixin, generics.ListCreateAPIView[Facility]):
    """施設台帳の一覧（絞り込み・並べ替え・ページ送り）と、施設の登録。"""

    serializer_class = s.FacilitySerializer
    filterset_class = FacilityFilter

    def get_queryset(self) -> QuerySet[Facility]:
        if schema_only(self):
            return Facility.objects.none()
        return (Facility.objects.filter(manager=municipality_in_path(self))
                .select_related("sector", "facility_type", "manager").order_by("facility_id"))


class FacilityDetail(LedgerMixin, generics.RetrieveUpdateDestroyAPIView[Facility]):
    """一つの施設：見る・変える・削除する（削除は画面と同じく点検・措置とともに、変更履歴から元に戻せます）。"""

    serializer_class = s.FacilitySerializer
    lookup_field = "facility_id"

    def get_queryset(self) -> QuerySet[Facility]:
        if schema_only(self):
            return Facility.objects.none()
        return Facility.objects.filter(manager=municipality_in_path(self)).select_related(
            "sector", "facility_type", "manager")

    def perform_destroy(self, instance: Facility) -> None:
        history.delete_facility(instance, self.request.user)


class ChildMixin(LedgerMixin):
    """Inspections and measures of the URL's municipality's facilities."""

    model: type[Inspection] | type[Measure]

    def get_queryset(self) -> QuerySet[Any]:
        if schema_only(self):
            return self.model.objects.none()
        return (self.model.objects.filter(facility__manager=municipality_in_path(self))
                .select_related("facility").order_by("facility__facility_id", "pk"))

    def perform_create(self, serializer: Any) -> None:
        obj = serializer.save()
        self.after_change([obj.facility_id])

    def perform_update(self, serializer: Any) -> None:
        before = serializer.instance.facility_id
        obj = serializer.save()
        self.after_change([before, obj.facility_id])

    def perform_destroy(self, instance: Any) -> None:
        facility_pk = instance.facility_id
        instance.delete()
        self.after_change([facility_pk])

    def after_change(self, facility_pks: list[int]) -> None:
        if self.model is Inspection:  # the facility's latest grade follows its inspections
            refresh_latest_grades(facility_pks)


class InspectionList(ChildMixin, generics.ListCreateAPIView[Any]):
    """点検の一覧（施設・健全性・点検年月日で絞り込み）と、点検の登録。"""

    model = Inspection
    serializer_class = s.InspectionSerializer
    filterset_class = InspectionFilter


class InspectionDetail(ChildMixin, generics.RetrieveUpdateDestroyAPIView[Any]):
    """一つの点検：見る・変える・削除する。"""

    model = Inspection
    serializer_class = s.InspectionSerializer


class MeasureList(ChildMixin, generics.ListCreateAPIView[Any]):
    """措置の一覧（施設・年度・区分・状態で絞り込み）と、措置の登録。"""

    model = Measure
    serializer_class = s.MeasureSerializer
    filterset_class = MeasureFilter


class MeasureDetail(ChildMixin, generics.RetrieveUpdateDestroyAPIView[Any]):
    """一つの措置：見る・変える・削除する。"""

    model = Measure
    serializer_class = s.MeasureSerializer


class BulkCreate(LedgerMixin, generics.GenericAPIView[Any]):
    """Many rows in one request: all are checked first, then written in one transaction — all or nothing."""

    pagination_class = None
    filter_backends: list[Any] = []

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not isinstance(request.data, list) or not request.data:
            raise serializers.ValidationError({"non_field_errors": ["登録する行を JSON の配列で送ってください。"]})
        if len(request.data) > BULK_LIMIT:
            raise serializers.ValidationError(
                {"non_field_errors": [f"一度に登録できるのは {BULK_LIMIT} 件までです（{len(request.data)} 件）。"]})
        serializer = self.get_serializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                objects = serializer.save()
                if serializer.child.Meta.model is Inspection:
                    refresh_latest_grades([o.facility_id for o in objects])
        except IntegrityError:
            raise serializers.ValidationError({"non_field_errors": [
                "同じもの（同じ施設ID、または同じ施設・日付・種別）が一度の登録の中に重なっています。何も登録していません。"]}
            ) from None
        return Response({"status": "ok", "created": len(objects), "items": serializer.data},
                        status=status.HTTP_201_CREATED)


def _bulk(serializer: type[serializers.Serializer[Any]], what: str) -> type[BulkCreate]:
    name = serializer.__name__.removesuffix("Serializer")
    view = type(f"{name}Bulk", (BulkCreate,), {"serializer_class": serializer, "__doc__":
                f"{what}の一括登録：JSON の配列（最大 {BULK_LIMIT} 件）。すべて正しいときだけ、一つのトランザクションで登録します。"})
    extend_schema(request=serializer(many=True), responses={201: inline_serializer(
        f"{name}BulkResult", fields={"status": serializers.CharField(), "created": serializers.IntegerField(),
                                     "items": serializer(many=True)})})(view)
    return view


FacilityBulk = _bulk(s.FacilitySerializer, "施設")
InspectionBulk = _bulk(s.InspectionSerializer, "点検")
MeasureBulk = _bulk(s.MeasureSerializer, "措置")


# --------------------------------------------------------------------------- imports


class ImportCreate(APIView):
    """台帳ファイルの取り込みを始める：取込番号を返し、進み具合と結果は取込記録で見ます。"""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.ImportCreateSerializer, responses={202: s.ImportRecordSerializer})
    def post(self, request: Request, lg_code: str) -> Response:
        muni = municipality_in_path(self)
        form = s.ImportCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        upload = data["file"]
        record = records.create_record(data["kind"], [(upload.name, upload)], municipality=muni, user=request.user,
                                       dry_run=data["dry_run"], skip_invalid=data["skip_invalid"],
                                       clear_blanks=data["clear_blanks"])
        records.start(record)  # on the task queue, like the web's upload
        record.refresh_from_db()
        return Response(s.ImportRecordSerializer(record).data, status=status.HTTP_202_ACCEPTED)


class ImportDetail(APIView):
    """取込記録：状態・進み具合（行数）・終わったら結果（gunmane import --format json と同じ形）。"""

    @extend_schema(responses={200: s.ImportRecordSerializer})
    def get(self, request: Request, import_pk: int) -> Response:
        municipality_in_path(self)
        record = self.import_record
        live = records.live_progress(record.pk)
        if live:
            record.rows_processed, record.rows_total = live
        return Response(s.ImportRecordSerializer(record).data)

    import_record: Any = None


# --------------------------------------------------------------------------- カルテ


def _karte(scope: Any, request: Request, visible: frozenset[str] | None) -> Response:
    query = s.KarteQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    karte = karte_services.build_karte(scope, fiscal_year=query.validated_data.get("fiscal_year"), visible=visible)
    return Response(karte.as_json())


KARTE_DOC = ("カルテ（見える化の指標）：`gunmane karte --format json` と同じ JSON。台帳から求める数字は、"
             "画面と同じく見てよい団体の分だけです（管理者はすべて）。")


class KarteView(APIView):
    @extend_schema(description=KARTE_DOC, parameters=[OpenApiParameter("fiscal_year", int, required=False)],
                   responses={200: ANY_JSON})
    def get(self, request: Request, scope: str) -> Response:
        """national（全国）・都道府県コード（2桁）・団体コード（6桁）のカルテ。"""
        if scope.startswith("group:"):
            raise NotFound("群のカルテは /api/groups/{番号}/karte/ で取得してください。")
        try:
            where = karte_services.resolve_scope(scope)
        except karte_services.ScopeNotFound as exc:
            raise NotFound(str(exc)) from None
        # as the pages do: the national カルテ shows public figures only; elsewhere what the reader may see
        visible = frozenset() if scope.lower() in ("national", "全国") else \
            group_permissions.ledger_figure_codes(request.user)
        return _karte(where, request, visible)


class GroupKarteView(APIView):
    @extend_schema(description=KARTE_DOC, parameters=[OpenApiParameter("fiscal_year", int, required=False)],
                   responses={200: ANY_JSON})
    def get(self, request: Request, group_pk: int) -> Response:
        """群のカルテ（参加を承諾した構成団体の合計）。"""
        group = group_in_path(self)
        where = karte_services.resolve_scope(f"group:{group.name}")
        return _karte(where, request, group_permissions.ledger_figure_codes(request.user))


# --------------------------------------------------------------------------- groups


class GroupList(generics.ListAPIView[Any]):
    """利用者の団体が参加を承諾した群。"""

    serializer_class = s.GroupSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return group_permissions.groups_of(self.request.user).order_by("pk")


class GroupDetail(generics.RetrieveAPIView[Any]):
    """一つの群（構成団体つき）。"""

    serializer_class = s.GroupSerializer

    def get_object(self) -> Any:
        return group_in_path(self)


class MemberList(generics.ListAPIView[Any]):
    """群の団体：承諾した構成団体と、招待中・辞退・脱退の団体。"""

    serializer_class = s.MemberSerializer

    def get_queryset(self) -> QuerySet[Any]:
        if schema_only(self):
            return GroupMember.objects.none()
        return group_in_path(self).members.select_related("municipality").order_by("pk")


class InvitationList(generics.ListAPIView[Any]):
    """利用者の団体への、まだ答えていない招待。"""

    serializer_class = s.MemberSerializer

    def get_queryset(self) -> QuerySet[Any]:
        return group_permissions.pending_invitations(self.request.user).order_by("pk")


class InvitationCreate(APIView):
    """群に団体を招待する（画面と同じく、構成団体の編集者だけ。招待された団体の編集者が承諾すると構成団体になります）。"""

    @extend_schema(request=s.InvitationCreateSerializer, responses={201: s.MemberSerializer})
    def post(self, request: Request, group_pk: int) -> Response:
        group = group_in_path(self)
        data = s.InvitationCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        muni = Municipality.objects.filter(lg_code=data.validated_data["municipality"]).first()
        form = MemberInviteForm({"municipality": muni.pk if muni else "", "role": data.validated_data["role"]},
                                group=group)
        if not form.is_valid():
            raise serializers.ValidationError({k if k != "__all__" else "non_field_errors": [str(e) for e in v]
                                               for k, v in form.errors.items()})
        member, _ = GroupMember.objects.update_or_create(group=group, municipality=form.cleaned_data["municipality"],
                                                         defaults={
            "role": form.cleaned_data["role"], "status": MemberStatus.INVITED, "invited_by": request.user,
            "invited_at": timezone.now(), "responded_by": None, "responded_at": None})
        return Response(s.MemberSerializer(member).data, status=status.HTTP_201_CREATED)


# --------------------------------------------------------------------------- 効果試算


def scenario_error(exc: Exception) -> Response:
    """The CLI's JSON for an invalid scenario: {"status": "invalid", "error": {code, message, field…}}."""
    error = exc.as_json() if hasattr(exc, "as_json") else {"code": "invalid", "message": str(exc), "field": None}
    return Response({"status": "invalid", "error": error}, status=status.HTTP_400_BAD_REQUEST)


class ScenarioList(generics.ListAPIView[Any]):
    """群の効果試算のシナリオ。"""

    serializer_class = s.ScenarioSerializer

    def get_queryset(self) -> QuerySet[Any]:
        if schema_only(self):
            return EffectScenario.objects.none()
        return group_in_path(self).effect_scenarios.order_by("pk")

    @extend_schema(request=s.ScenarioCreateSerializer, responses={201: s.ScenarioSerializer})
    def post(self, request: Request, group_pk: int) -> Response:
        """シナリオをつくる：`toml`（gunmane effects が読むシナリオファイルの文字列）か `document`（同じ内容の JSON）。
        どちらもなければ、群の構成団体と分野から代表的なシナリオをつくります（画面の「新しい試算」と同じ）。"""
        group = group_in_path(self)
        form = s.ScenarioCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            if data.get("document"):
                text = tomli_w.dumps(data["document"])
            else:
                text = data.get("toml") or effects.default_scenario_toml(group)
            name = str(tomllib.loads(text).get("name") or f"{group.name} 効果試算")[:100]
            sf = read_scenario(f"{name}.toml", text=text)
            effects.check_members(sf, group)
            engine_scenarios(sf)
        except (ScenarioFileError, EffectsError, CostingError, tomllib.TOMLDecodeError, TypeError, ValueError) as exc:
            return scenario_error(exc)
        es = EffectScenario.objects.create(group=group, name=name, toml=text,
                                           chosen_index=data.get("chosen_index", 0), created_by=request.user)
        return Response(s.ScenarioSerializer(es).data, status=status.HTTP_201_CREATED)


class ScenarioDetail(generics.RetrieveDestroyAPIView[Any]):
    """一つのシナリオ（シナリオファイルの文字列）：見る・削除する。"""

    serializer_class = s.ScenarioSerializer
    lookup_url_kwarg = "sid"

    def get_queryset(self) -> QuerySet[Any]:
        if schema_only(self):
            return EffectScenario.objects.none()
        return group_in_path(self).effect_scenarios.all()


def _job_answer(job: Job, answer: Callable[[dict[str, Any]], dict[str, Any]]) -> Response:
    """A value job's answer (docs/tasks.md): while it runs, 202 with its state — ask the same address again, or poll
    `status_url` — then `answer(value)`, or the CLI's {"status": "invalid", "error": …} (400) when the scenario
    cannot be computed. A failed job is started again by the next request."""
    done = jobs.value(job)
    if done is None:
        return Response(jobs.state(job), status=status.HTTP_202_ACCEPTED)
    if "error" in done:
        return Response({"status": "invalid", "error": done.get("error_json") or {
            "code": "invalid", "message": done["error"], "key": None}}, status=status.HTTP_400_BAD_REQUEST)
    return Response(answer(done))


JOB_DOC = ("計算はタスクキューで行います（docs/tasks.md）。できるまでは HTTP 202 と進み具合（`status`・`progress`・"
           "`message`・`status_url`）を返すので、同じアドレスをもう一度（または `status_url` を）しばらくしてから"
           "読んでください。できたら 200 で結果を返し、データとシナリオが変わらないうちは保存した結果をすぐに返します。")


class ScenarioResult(APIView):
    @extend_schema(description=JOB_DOC, responses={200: ANY_JSON, 202: s.JobStateSerializer, 400: ANY_JSON})
    def get(self, request: Request, group_pk: int, sid: int) -> Response:
        """効果試算を実行した結果：`gunmane effects --format json` と同じ JSON（今の台帳と構成団体で計算）。"""
        group = group_in_path(self)
        es = get_object_or_404(EffectScenario, pk=sid, group=group)
        return _job_answer(effects.effects_job(es, request.user), lambda done: {
            "status": "ok", "scenario_file": f"{es.name}.toml", **done["ev"].result.as_json()})


class ScenarioLots(APIView):
    @extend_schema(description=JOB_DOC, responses={200: ANY_JSON, 202: s.JobStateSerializer, 400: ANY_JSON})
    def get(self, request: Request, group_pk: int, sid: int) -> Response:
        """ロット設計（CP-SAT、シナリオの [lots] の条件と計算時間の上限）：`gunmane lots --format json` と同じ JSON。
        画面のロット設計と同じ計算で、群が「ロット設計に使う」と保存した地区割りがあればそれを使います。"""
        group = group_in_path(self)
        es = get_object_or_404(EffectScenario, pk=sid, group=group)
        return _job_answer(effects.lots_job(es, request.user), lambda done: {"status": "ok", **done["design"].as_json()})


# --------------------------------------------------------------------------- deterioration and districts


def _fit(scope: Any, request: Request, *, pool: bool) -> Response:
    """The deterioration page's fit (bridges), from the same job on the task queue: 202 with the job's state while
    the worker computes it, then the estimate's JSON, or the CLI's {"status": "invalid", "error": …}."""
    query = s.FitQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    job = lifecycle_views.fit_job(scope, merge_iv=query.validated_data["merge_iv"], facility_type="bridge", pool=pool,
                                  user=request.user)
    summary = jobs.value(job)
    if summary is None:
        return Response(jobs.state(job), status=status.HTTP_202_ACCEPTED)
    if summary["fit"] is None:
        return Response({"status": "invalid", "error": summary["error"].as_json()}, status=status.HTTP_400_BAD_REQUEST)
    return Response({**summary["fit"].as_json(), "facility_type": "bridge"})  # as `gunmane deterioration fit --ledger`


FIT_DOC = ("劣化予測（橋梁の健全性の推移、マルコフ劣化ハザード）の推定結果。画面「劣化予測」と同じ計算（同じタスクキューの"
           "仕事）です。" + JOB_DOC + "`merge_iv=true` で Ⅳ をⅢにまとめます。")


class MunicipalityFit(APIView):
    @extend_schema(description=FIT_DOC, parameters=[s.FitQuerySerializer], responses={200: ANY_JSON})
    def get(self, request: Request, lg_code: str) -> Response:
        """団体の台帳による劣化予測。"""
        muni = municipality_in_path(self)
        try:
            scope = karte_services.resolve_scope(muni.lg_code)
        except karte_services.ScopeNotFound as exc:
            raise NotFound(str(exc)) from None
        return _fit(scope, request, pool=False)


class GroupFit(APIView):
    @extend_schema(description=FIT_DOC, parameters=[s.FitQuerySerializer], responses={200: ANY_JSON})
    def get(self, request: Request, group_pk: int) -> Response:
        """群（参加を承諾した構成団体）の台帳による劣化予測（団体ごとの違いをプールした比較つき）。"""
        group = group_in_path(self)
        return _fit(karte_services.resolve_scope(f"group:{group.name}"), request, pool=True)


class GroupDistricting(APIView):
    @extend_schema(responses={200: s.DistrictingSerializer})
    def get(self, request: Request, group_pk: int) -> Response:
        """群がロット設計に使うと決めた地区割り（地域分割の画面で保存したもの）：施設ごとの地区と、計算の条件。"""
        saved = SavedDistricting.objects.filter(group=group_in_path(self)).first()
        if saved is None:
            raise NotFound("この群には、ロット設計に使う地区割りがまだ保存されていません（群の「地域分割」で選びます）。")
        return Response(s.DistrictingSerializer(saved).data)
