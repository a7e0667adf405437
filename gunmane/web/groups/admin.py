from django.contrib import admin

from gunmane.web.groups.models import Group, GroupMember


class GroupMemberInline(admin.TabularInline):
    model = GroupMember
    autocomplete_fields = ["municipality"]
    extra = 1


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]
    inlines = [GroupMemberInline]
