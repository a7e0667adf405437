from django.contrib import admin

from gunmane.web.groups.models import (
    ChecklistEvent,
    ChecklistItem,
    GeneratedDocument,
    Group,
    GroupMember,
    GroupSettings,
    MemberDuties,
    PeopleMeasure,
)


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    autocomplete_fields = ["municipality"]
    extra = 1


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [GroupMemberInline]

admin.site.register(GroupSettings)
admin.site.register(MemberDuties)
admin.site.register(PeopleMeasure)


@admin.register(ChecklistItem)
class ChecklistItemAdmin(admin.ModelAdmin):
    list_display = ["group", "stage", "title", "status", "owner", "due_date"]
    list_filter = ["group", "stage", "status"]


@admin.register(ChecklistEvent)
class ChecklistEventAdmin(admin.ModelAdmin):
    list_display = ["item", "user", "at"]


@admin.register(GeneratedDocument)
class GeneratedDocumentAdmin(admin.ModelAdmin):
    list_display = ["group", "kind", "version", "file_format", "lot", "created_at"]
