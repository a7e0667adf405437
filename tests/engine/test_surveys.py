"""Questionnaire templates (gunmane/data/surveys, read by gunmane.io.shipped.surveys) and building one group's
questionnaire from them (gunmane.engine.surveys): no database, no Django."""

from __future__ import annotations

from typing import Any

from gunmane.engine.surveys import BuiltSurvey, SurveyTemplate, build
from gunmane.io.shipped import surveys as survey_templates


def _build(template: SurveyTemplate, **group: Any) -> BuiltSurvey:
    return build(template, sector_names=survey_templates.sector_names(),
                 work_names=survey_templates.work_kind_names(), **group)


def test_every_template_loads_and_builds_for_every_sector() -> None:
    all_sectors = list(survey_templates.sector_names())
    all_works = [w.code for w in survey_templates.work_kinds()]
    for t in survey_templates.templates().values():
        built = _build(t, group_name="テスト群", sectors=all_sectors, works=all_works, members=["甲市", "乙町"])
        keys = [q.key for q in built.questions]
        assert keys == [q.key for q in t.questions]  # nothing dropped when everything is covered
        for q in built.questions:
            assert "{" not in q.text and "@" not in "".join(q.choices + q.rows)
            if q.show_if_key:
                assert keys.index(q.show_if_key) < keys.index(q.key)
            assert q.source, f"{t.key}.{q.key} has no source"
        assert "テスト群" in built.title and "テスト群" in built.intro
    assert set(survey_templates.templates()) == {"contractor", "department", "resident"}


def test_build_follows_group_sectors_works_and_members() -> None:
    resident = survey_templates.templates()["resident"]
    built = _build(resident, group_name="群", sectors=["road"], works=["patrol"], members=[])
    matrix = next(q for q in built.questions if q.key == "satisfaction")
    assert "公園の清掃・遊具の安全" not in matrix.rows and "橋の安全性" in matrix.rows
    priorities = next(q for q in built.questions if q.key == "priorities")
    assert "除雪" not in priorities.choices and priorities.max_choices == 3
    contractor = _build(survey_templates.templates()["contractor"], group_name="群", sectors=["road", "park"],
                        works=["patrol", "cleaning"], members=["宇陀市", "曽爾村"])
    area = next(q for q in contractor.questions if q.key == "area")
    assert area.choices == ["宇陀市", "曽爾村"]
    works = next(q for q in contractor.questions if q.key == "capable_works")
    assert works.choices == ["道路等の巡回（パトロール）", "清掃"]
    # no members → the area question has nothing to offer and is dropped
    no_area = _build(survey_templates.templates()["contractor"], group_name="群", sectors=["road"],
                     works=["patrol"], members=[])
    assert "area" not in [q.key for q in no_area.questions]
