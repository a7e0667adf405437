"""Forms of the surveys app: building a survey, editing questions, adding recipients, answering.

Every error a user can make gets a Japanese message naming what was expected; the respondent form
validates on the server (required answers, conditions, numbers, choice limits), so it works without
JavaScript.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django import forms
from django.utils import timezone

from gunmane.engine.surveys import DEFAULT_SCALE
from gunmane.io import limits
from gunmane.io.ledger.tabular import TableError, decode_text
from gunmane.io.shipped import surveys as survey_templates
from gunmane.io.values.parsing import InvalidValue, parse_number
from gunmane.web.surveys.models import Question, QuestionKind, Survey, shown_keys

MAX_RECIPIENTS_PER_UPLOAD = 2000
MAX_ATTRIBUTES = 6
MAX_TEXT_ANSWER = 4000
MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_TEXT_CHARS = 2 * 1024 * 1024  # pasted text and the uploaded file together


def _lines(text: str) -> list[str]:
    """Non-empty, stripped lines of a textarea, duplicates removed (order kept)."""
    out = [unicodedata.normalize("NFKC", line).strip() for line in (text or "").splitlines()]
    return list(dict.fromkeys(line for line in out if line))


def _shorten(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _future(value: date) -> date:
    if value < timezone.localdate():
        raise forms.ValidationError("回答期限が過去の日付です。今日以降の日付を指定してください。")
    return value


class DateInput(forms.DateInput):
    """A native date picker; its value must be ISO (the ja locale would print 2026/12/25)."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%d")


class SurveyCreateForm(forms.Form):
    template = forms.ChoiceField(label="ひな形", widget=forms.RadioSelect)
    title = forms.CharField(label="調査名", max_length=200, required=False,
                            help_text="空欄のときはひな形の調査名（群の名前入り）を使います。")
    sectors = forms.MultipleChoiceField(label="対象の分野", widget=forms.CheckboxSelectMultiple,
                                        help_text="群の設定の対象分野（未設定なら構成団体の施設台帳にある分野）に、あらかじめチェックを入れています。",
                                        error_messages={"required": "対象の分野を1つ以上選んでください。"})
    work_kinds = forms.MultipleChoiceField(label="対象の業務", widget=forms.CheckboxSelectMultiple,
                                           help_text="群の設定の対象業務に合わせて、あらかじめチェックを入れています。",
                                           error_messages={"required": "対象の業務を1つ以上選んでください。"})
    closes_on = forms.DateField(label="回答期限", widget=DateInput,
                                help_text="回答用リンクの有効期限の既定値になります。")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.key, t.name) for t in survey_templates.templates().values()]  # type: ignore[attr-defined]
        self.fields["sectors"].choices = list(survey_templates.sector_names().items())  # type: ignore[attr-defined]
        self.fields["work_kinds"].choices = [(w.code, w.name) for w in survey_templates.work_kinds()]  # type: ignore[attr-defined]

    def clean_closes_on(self) -> date:
        return _future(self.cleaned_data["closes_on"])


class SurveySettingsForm(forms.ModelForm):
    attributes_text = forms.CharField(
        label="回答者の属性（1行に1つ）", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="例：業種／所在地／従業員規模。クロス集計に使います。回答者を登録した後は変更できません。")

    class Meta:
        model = Survey
        fields = ["title", "intro", "closes_on", "name_label"]
        widgets = {"closes_on": DateInput, "intro": forms.Textarea(attrs={"rows": 6})}
        help_texts = {"closes_on": "新しく登録する回答者のリンクの有効期限の既定値です。登録済みのリンクの期限は"
                                   "「回答者とリンク」でまとめて変更できます。",
                      "name_label": "例：会社名・団体名・回答者（整理番号）"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attributes_text"].initial = "\n".join(self.instance.attribute_labels or [])
        self.locked_attributes = self.instance.pk is not None and self.instance.recipients.exists()
        if self.locked_attributes:
            self.fields["attributes_text"].disabled = True

    def clean_closes_on(self) -> date:
        value = self.cleaned_data["closes_on"]
        if "closes_on" in self.changed_data:
            _future(value)
        return value

    def clean_attributes_text(self) -> list[str]:
        if self.locked_attributes:
            return list(self.instance.attribute_labels)
        labels = _lines(self.cleaned_data.get("attributes_text", ""))
        if len(labels) > MAX_ATTRIBUTES:
            raise forms.ValidationError(f"属性は{MAX_ATTRIBUTES}個までです（{len(labels)}個あります）。")
        for label in labels:
            if len(label) > 40:
                raise forms.ValidationError(f"属性「{label[:20]}…」が長すぎます（40文字まで）。")
        return labels

    def save(self, commit: bool = True) -> Survey:
        survey = super().save(commit=False)
        survey.attribute_labels = self.cleaned_data["attributes_text"]
        if commit:
            survey.save()
        return survey


class QuestionForm(forms.ModelForm):
    choices_text = forms.CharField(label="選択肢（1行に1つ）", required=False, widget=forms.Textarea(attrs={"rows": 6}),
                                   help_text="単一選択・複数選択で使います（2つ以上）。")
    rows_text = forms.CharField(label="行（1行に1つ）", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                                help_text="マトリクスで使います。各行を5段階で答えます。")
    scale_text = forms.CharField(label="5段階の見出し（1〜5の順に5行）", required=False,
                                 widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="5段階評価・マトリクスで使います。空欄なら「そう思わない」〜「そう思う」。")
    values_text = forms.CharField(label="表示条件の回答（1行に1つ）", required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="上の設問でこのいずれかを選んだ回答者にだけ、この設問を表示します。"
                                            "5段階評価なら 1〜5 の数字を書きます。")

    class Meta:
        model = Question
        fields = ["kind", "text", "help_text", "required", "unit", "min_value", "max_value", "max_choices",
                  "show_if_question", "source"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3}), "kind": forms.RadioSelect}
        labels = {"show_if_question": "表示条件（この設問の回答によって表示する）"}
        help_texts = {"max_choices": "複数選択で選べる数の上限（空欄なら無制限）。",
                      "unit": "数値の単位（人・件・時間など）。"}

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.fields["kind"].choices = QuestionKind.choices  # type: ignore[attr-defined]  # no "---------"
        earlier = survey.questions.filter(kind__in=["single", "multiple", "scale"])
        if self.instance.pk:
            earlier = earlier.filter(order__lt=self.instance.order)
        self.fields["show_if_question"].queryset = earlier  # type: ignore[attr-defined]
        number = {pk: i for i, pk in enumerate(survey.questions.order_by("order", "pk").values_list("pk", flat=True), 1)}
        self.fields["show_if_question"].label_from_instance = (  # type: ignore[attr-defined]
            lambda q: f"問{number.get(q.pk, '')} {_shorten(q.text, 40)}（{q.get_kind_display()}）")
        self.fields["show_if_question"].empty_label = "（条件なし：全員に表示）"  # type: ignore[attr-defined]
        inst = self.instance
        self.fields["choices_text"].initial = "\n".join(inst.choices or [])
        self.fields["rows_text"].initial = "\n".join(inst.rows or [])
        self.fields["scale_text"].initial = "\n".join(inst.scale_labels or [])
        self.fields["values_text"].initial = "\n".join(inst.show_if_values or [])
        self.fields["text"].max_length = 500  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        choices, rows = _lines(data.get("choices_text", "")), _lines(data.get("rows_text", ""))
        scale = _lines(data.get("scale_text", ""))
        data["choices"] = choices if kind in ("single", "multiple") else []
        data["rows"] = rows if kind == "matrix" else []
        if kind in ("single", "multiple") and len(choices) < 2:
            self.add_error("choices_text", "選択肢を2つ以上、1行に1つずつ書いてください。")
        if any(len(c) > 200 for c in choices + rows):
            self.add_error("choices_text" if kind != "matrix" else "rows_text", "選択肢・行は200文字までです。")
        if kind == "matrix" and not rows:
            self.add_error("rows_text", "マトリクスの行を1つ以上書いてください。")
        if len(choices) > 50 or len(rows) > 30:
            self.add_error("choices_text" if len(choices) > 50 else "rows_text",
                           "選択肢は50個まで、マトリクスの行は30行までです。")
        if kind in ("scale", "matrix"):
            if scale and len(scale) != 5:
                self.add_error("scale_text", f"5段階の見出しはちょうど5行必要です（{len(scale)}行あります）。")
            data["scale_labels"] = scale if len(scale) == 5 else list(DEFAULT_SCALE)
        else:
            data["scale_labels"] = []
        lo, hi = data.get("min_value"), data.get("max_value")
        if kind == "number" and lo is not None and hi is not None and lo > hi:
            self.add_error("max_value", "最大値は最小値以上にしてください。")
        if data.get("max_choices") is not None and kind == "multiple" and data["max_choices"] < 1:
            self.add_error("max_choices", "選べる数の上限は1以上にしてください。")
        if kind != "multiple":
            data["max_choices"] = None
        self._clean_condition(data)
        self._check_dependents(data)
        return data

    def _clean_condition(self, data: dict[str, Any]) -> None:
        source: Question | None = data.get("show_if_question")
        values = _lines(data.get("values_text", ""))
        data["show_if_values"] = []
        if source is None:
            if values:
                self.add_error("show_if_question", "表示条件の回答を書いたときは、条件にする設問を選んでください。")
            return
        if not values:
            self.add_error("values_text", "どの回答のときに表示するかを1つ以上書いてください。")
            return
        unknown = [v for v in values if v not in source.options()]
        if unknown:
            allowed = "」「".join(source.options())
            self.add_error("values_text", f"「{'」「'.join(unknown)}」は条件の設問の選択肢にありません。"
                                          f"次から選んで書いてください：「{allowed}」")
        data["show_if_values"] = values

    def _check_dependents(self, data: dict[str, Any]) -> None:
        """Editing a question must not break the condition of a later question that refers to it."""
        if not self.instance.pk:
            return
        for dep in self.instance.dependents.all():
            if data.get("kind") not in ("single", "multiple", "scale"):
                self.add_error("kind", f"設問「{dep.text[:30]}」の表示条件に使われているため、"
                                       "選択式（単一・複数・5段階）以外にはできません。")
                return
            options = data["choices"] if data.get("kind") in ("single", "multiple") else [str(i) for i in range(1, 6)]
            missing = [v for v in dep.show_if_values if v not in options]
            if missing:
                self.add_error("choices_text", f"選択肢「{'」「'.join(missing)}」は設問「{dep.text[:30]}」の"
                                               "表示条件に使われているため、削除・変更できません。先に条件を変更してください。")

    def save(self, commit: bool = True) -> Question:
        q = super().save(commit=False)
        for name in ("choices", "rows", "scale_labels", "show_if_values", "max_choices"):
            setattr(q, name, self.cleaned_data[name])
        if commit:
            q.save()
        return q


# ------------------------------------------------------------------------------ recipients


@dataclass
class RecipientRow:
    line: int
    name: str
    attributes: list[str]


def decode_upload(data: bytes, name: str) -> str:
    """The text of an uploaded CSV ``name``, decoded as the ledger importer decodes files (UTF-8 with or
    without BOM, CP932 from Excel on Japanese Windows, UTF-16 with BOM: gunmane.io.ledger.tabular); a text
    with control or private-use characters is refused too (a binary file, or UTF-16 without its BOM)."""
    try:
        text = decode_text(data)
    except TableError as exc:
        raise forms.ValidationError(f"「{name}」：{exc.message_ja}") from None
    for line_no, line in enumerate(text.split("\n"), start=1):
        bad = next((c for c in line if unicodedata.category(c) in ("Co", "Cs")
                    or (unicodedata.category(c) == "Cc" and c not in "\t\r")), None)
        if bad is not None:
            raise forms.ValidationError(
                f"「{name}」：文字コードを判別できません（{line_no}行目に文字ではないデータ U+{ord(bad):04X} があります）。"
                "UTF-8 または Shift_JIS（CP932）の CSV を選んでください。")
    return text


def parse_recipient_lines(text: str, *, name_label: str, attribute_labels: list[str],
                          delimiter: str | None = None) -> tuple[list[RecipientRow], list[str]]:
    """Rows of "name, attribute…" (tab- or comma-separated; a header row is skipped); and errors."""
    rows: list[RecipientRow] = []
    errors: list[str] = []
    raw_lines = text.splitlines()
    if not delimiter:
        delimiter = "\t" if any("\t" in line for line in raw_lines) else ","
    max_cols = 1 + len(attribute_labels)
    header = {_norm(name_label), "名前", "氏名", "会社名", "団体名", "回答者名", "name"}
    if len(text) > MAX_TEXT_CHARS:
        return [], [f"貼り付け・ファイルが長すぎます（{len(text):,}文字、上限 {MAX_TEXT_CHARS:,}文字）。分けて登録してください。"]
    budget = limits.LineBudget()
    lines: list[list[str]] = []
    try:  # the rows within the limits of gunmane.io.limits (field and row length), as for ledger files
        for cells in csv.reader(limits.csv_lines(io.StringIO(text.replace("\x00", "")), budget), delimiter=delimiter):
            budget.next_row()
            lines.append(cells)
    except csv.Error as exc:
        refusal = limits.csv_error(exc, budget.row)
        return [], [f"{refusal.message_ja}1行に1人、タブかカンマで区切ってください。"]
    except limits.FileRefused as exc:
        return [], [exc.message_ja]
    for number, cells in enumerate(lines, start=1):
        cells = [unicodedata.normalize("NFKC", c).strip() for c in cells]
        while cells and not cells[-1]:
            cells.pop()
        if not cells:
            continue
        if not rows and not errors and _norm(cells[0]) in header:
            continue  # a header row
        if not cells[0]:
            errors.append(f"{number}行目：{name_label}が空です。")
            continue
        if len(cells) > max_cols:
            labels = "、".join([name_label, *attribute_labels])
            errors.append(f"{number}行目：列が多すぎます（{len(cells)}列）。「{labels}」の{max_cols}列までです。"
                          "値に「,」を含むときは \"…\" で囲んでください。")
            continue
        if len(cells[0]) > 200 or any(len(c) > 200 for c in cells[1:]):
            errors.append(f"{number}行目：200文字を超える値があります。")
            continue
        rows.append(RecipientRow(number, cells[0], cells[1:] + [""] * (max_cols - len(cells))))
    if len(rows) > MAX_RECIPIENTS_PER_UPLOAD:
        errors.append(f"一度に登録できるのは{MAX_RECIPIENTS_PER_UPLOAD}人までです（{len(rows)}人あります）。")
    return rows, errors


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s)).lower()


class RecipientsForm(forms.Form):
    lines = forms.CharField(label="貼り付け（1行に1人）", required=False, widget=forms.Textarea(attrs={"rows": 8}))
    file = forms.FileField(label="または CSV ファイル", required=False,
                           help_text="UTF-8 または Shift_JIS（CP932）。1行目が見出しでも構いません。")
    numbered = forms.IntegerField(
        label="または 整理番号で人数分つくる", required=False, min_value=1, max_value=MAX_RECIPIENTS_PER_UPLOAD,
        help_text="住民アンケートなど名前を聞かない調査に。001、002 … の番号の回答者をつくります（属性は空欄）。",
        widget=forms.NumberInput(attrs={"class": "input--short"}))
    expires_on = forms.DateField(label="リンクの有効期限", widget=DateInput)

    def __init__(self, *args: Any, survey: Survey, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survey = survey
        self.fields["expires_on"].initial = survey.closes_on
        cols = "、".join([survey.name_label, *survey.attribute_labels])
        self.fields["lines"].help_text = (f"「{cols}」の順に、タブ（Excel からの貼り付け）またはカンマで区切って書きます。"
                                          "2列目以降は省略できます。")

    def clean_expires_on(self) -> date:
        return _future(self.cleaned_data["expires_on"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text, upload = data.get("lines") or "", data.get("file")
        if data.get("numbered"):
            if text.strip() or upload is not None:
                raise forms.ValidationError("貼り付け・CSV ファイルと「整理番号で人数分つくる」は、どちらか一方だけ指定してください。")
            data["rows"] = self._numbered_rows(data["numbered"])
            return data
        if upload is not None:
            if Path(upload.name).suffix.lower() not in (".csv", ".txt", ".tsv"):
                self.add_error("file", f"「{upload.name}」は CSV ではありません。Excel なら「CSV（コンマ区切り）」で保存してください。")
                return data
            if upload.size > MAX_CSV_BYTES:
                self.add_error("file", "ファイルが大きすぎます（2MBまで）。")
                return data
            try:
                text = (text + "\n" if text.strip() else "") + decode_upload(upload.read(), upload.name)
            except forms.ValidationError as exc:
                self.add_error("file", exc)
                return data
        if not text.strip():
            raise forms.ValidationError("回答者を貼り付けるか、CSV ファイルを選んでください。")
        rows, errors = parse_recipient_lines(text, name_label=self.survey.name_label,
                                             attribute_labels=list(self.survey.attribute_labels))
        existing = set(self.survey.recipients.values_list("name", flat=True))
        seen: set[str] = set()
        for r in rows:
            if r.name in existing:
                errors.append(f"{r.line}行目：「{r.name}」はすでに登録されています。")
            elif r.name in seen:
                errors.append(f"{r.line}行目：「{r.name}」が重複しています。")
            seen.add(r.name)
        if not rows and not errors:
            errors.append("回答者が1人も読み取れませんでした。")
        for e in errors[:30]:
            self.add_error(None, e)
        if len(errors) > 30:
            self.add_error(None, f"ほか{len(errors) - 30}件のエラーがあります。")
        data["rows"] = rows
        return data


    def _numbered_rows(self, n: int) -> list[RecipientRow]:
        """整理番号 continuing after the numbers already used (001, 002 …)."""
        used = [int(name) for name in self.survey.recipients.values_list("name", flat=True) if name.isdigit()]
        start = max(used, default=0) + 1
        width = max(3, len(str(start + n - 1)))
        blank = [""] * len(self.survey.attribute_labels)
        return [RecipientRow(i, f"{start + i:0{width}d}", list(blank)) for i in range(n)]


class ExpiryForm(forms.Form):
    expires_on = forms.DateField(label="新しい有効期限", widget=DateInput)

    def clean_expires_on(self) -> date:
        return _future(self.cleaned_data["expires_on"])


# ------------------------------------------------------------------------------ answering


def field_name(q: Question, row: int | None = None) -> str:
    return f"q_{q.key}" if row is None else f"q_{q.key}__{row}"


def _scale_choices(q: Question) -> list[tuple[int, str]]:
    labels = q.scale_labels if len(q.scale_labels or []) == 5 else list(DEFAULT_SCALE)
    return [(i, f"{i} {labels[i - 1]}") for i in range(1, 6)]


REQUIRED = "この設問は回答が必要です。"


class ResponseForm(forms.Form):
    """The respondent's form: one field per question (one per row for a matrix)."""

    def __init__(self, *args: Any, questions: list[Question], final: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        self.final = final
        for q in questions:
            label = q.text
            if q.kind == QuestionKind.SINGLE:
                self.fields[field_name(q)] = forms.ChoiceField(label=label, required=False, widget=forms.RadioSelect,
                                                               choices=[(c, c) for c in q.choices])
            elif q.kind == QuestionKind.MULTIPLE:
                self.fields[field_name(q)] = forms.MultipleChoiceField(
                    label=label, required=False, widget=forms.CheckboxSelectMultiple, choices=[(c, c) for c in q.choices])
            elif q.kind == QuestionKind.SCALE:
                self.fields[field_name(q)] = forms.TypedChoiceField(label=label, required=False, coerce=int,
                                                                    widget=forms.RadioSelect, choices=_scale_choices(q))
            elif q.kind == QuestionKind.NUMBER:
                self.fields[field_name(q)] = forms.CharField(
                    label=label, required=False, max_length=30,
                    widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "input--short"}))
            elif q.kind == QuestionKind.TEXT:
                self.fields[field_name(q)] = forms.CharField(label=label, required=False, max_length=MAX_TEXT_ANSWER,
                                                             widget=forms.Textarea(attrs={"rows": 4}))
            elif q.kind == QuestionKind.MATRIX:
                for i, row in enumerate(q.rows):
                    self.fields[field_name(q, i)] = forms.TypedChoiceField(
                        label=f"{label}：{row}", required=False, coerce=int, widget=forms.RadioSelect,
                        choices=_scale_choices(q))

    @classmethod
    def initial_from(cls, questions: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for q in questions:
            value = answers.get(q.key)
            if value is None:
                continue
            if q.kind == QuestionKind.MATRIX and isinstance(value, dict):
                for i, row in enumerate(q.rows):
                    if row in value:
                        initial[field_name(q, i)] = value[row]
            elif q.kind == QuestionKind.NUMBER:
                initial[field_name(q)] = f"{value:g}" if isinstance(value, float) else str(value)
            else:
                initial[field_name(q)] = value
        return initial

    def clean(self) -> dict[str, Any]:  # noqa: C901 (complexity ratchet, #17: split before adding to it)
        data = super().clean() or {}
        answers: dict[str, Any] = {}
        for q in self.questions:
            name = field_name(q)
            if q.kind == QuestionKind.MATRIX:
                rows = {row: data[field_name(q, i)] for i, row in enumerate(q.rows)
                        if data.get(field_name(q, i)) not in (None, "")}
                if rows:
                    answers[q.key] = rows
            elif q.kind == QuestionKind.NUMBER:
                raw = (data.get(name) or "").strip()
                if not raw:
                    continue
                try:  # 「１,２００」「1200人」「約30」 read as the ledger importer reads numbers
                    number = parse_number(raw, unit_hint=q.unit).value
                except InvalidValue as exc:
                    if exc.code != "not_a_number":  # a unit other than the question's (「3件」 where 人 is asked)
                        self.add_error(name, f"「{raw}」は数値として読めません。{exc.message_ja}。")
                        continue
                    number = None
                if number is None:  # also 「不明」「－」: no answer to a number question
                    self.add_error(name, f"「{raw}」は数値として読めません。数字で入力してください（例：12）。")
                    continue
                if q.min_value is not None and number < q.min_value:
                    self.add_error(name, f"{q.min_value:g}{q.unit}以上の値を入力してください。")
                    continue
                if q.max_value is not None and number > q.max_value:
                    self.add_error(name, f"{q.max_value:g}{q.unit}以下の値を入力してください。")
                    continue
                answers[q.key] = int(number) if number.is_integer() else number
            elif q.kind == QuestionKind.MULTIPLE:
                values = data.get(name) or []
                if q.max_choices and len(values) > q.max_choices:
                    self.add_error(name, f"選べるのは{q.max_choices}つまでです（{len(values)}つ選ばれています）。")
                if values:
                    answers[q.key] = list(values)
            else:
                value = data.get(name)
                if isinstance(value, str):
                    value = value.strip()
                if value not in (None, ""):
                    answers[q.key] = value
        shown = self._shown(answers)
        answers = {k: v for k, v in answers.items() if k in shown}  # answers to skipped questions are dropped
        if self.final:
            for q in self.questions:
                if not q.required or q.key not in shown:
                    continue
                if q.kind == QuestionKind.MATRIX:
                    got = answers.get(q.key, {})
                    missing = [i for i, row in enumerate(q.rows)
                               if row not in got and field_name(q, i) not in self.errors]
                    for i in missing:  # one message, every missing row marked
                        self.add_error(field_name(q, i), f"すべての行に回答してください（未回答 {len(missing)}行："
                                                         "赤く表示した行）。")
                elif q.key not in answers and field_name(q) not in self.errors:
                    self.add_error(field_name(q), REQUIRED)
        data["answers"] = answers
        return data

    def _shown(self, answers: dict[str, Any]) -> set[str]:
        return shown_keys(self.questions, answers)
