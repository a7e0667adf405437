from django.urls import path

from gunmane.web.groups import views, views_districts, views_effects

app_name = "groups"
urlpatterns = [
    path("", views.group_list, name="list"),
    path("new/", views.group_create, name="create"),
    path("board/", views.board, name="board"),
    path("<int:pk>/", views.overview, name="overview"),
    path("<int:pk>/settings/", views.settings_edit, name="settings"),
    path("<int:pk>/members/<int:member_pk>/", views.duties_edit, name="duties"),
    path("<int:pk>/members/invite/", views.member_invite, name="member_invite"),
    path("<int:pk>/members/<int:member_pk>/invitation/", views.invitation, name="invitation"),
    path("<int:pk>/members/<int:member_pk>/answer/", views.invitation_answer, name="invitation_answer"),
    path("<int:pk>/members/<int:member_pk>/leave/", views.member_leave, name="member_leave"),
    path("<int:pk>/members/<int:member_pk>/cancel/", views.member_cancel, name="member_cancel"),
    path("<int:pk>/mechanism/", views.mechanism, name="mechanism"),
    path("<int:pk>/cases/", views.cases, name="cases"),
    path("<int:pk>/process/", views.process, name="process"),
    path("<int:pk>/process/add/", views.item_add, name="item_add"),
    path("<int:pk>/process/<int:item_pk>/", views.item_edit, name="item"),
    path("<int:pk>/people/", views.people, name="people"),
    path("<int:pk>/documents/", views.documents, name="documents"),
    path("<int:pk>/documents/<int:doc_pk>/", views.document_download, name="document"),
    path("<int:pk>/documents/annex/<str:lot>/", views.lot_annex, name="lot_annex"),
    path("<int:pk>/effects/", views_effects.effects_list, name="effects"),
    path("<int:pk>/effects/new/", views_effects.effects_new, name="effects_new"),
    path("<int:pk>/effects/<int:sid>/", views_effects.effects_result, name="effects_result"),
    path("<int:pk>/effects/<int:sid>/edit/", views_effects.effects_edit, name="effects_edit"),
    path("<int:pk>/effects/<int:sid>/lots/", views_effects.effects_lots, name="effects_lots"),
    path("<int:pk>/effects/<int:sid>/lots/map.<str:fmt>", views_effects.effects_lots_geo, name="effects_lots_geo"),
    path("<int:pk>/districts/", views_districts.districts, name="districts"),
    path("<int:pk>/districts/file.<str:fmt>", views_districts.districts_file, name="districts_file"),
    path("<int:pk>/districts/use/", views_districts.districts_use, name="districts_use"),
    path("<int:pk>/districts/forget/", views_districts.districts_forget, name="districts_forget"),
]
