from django.contrib import admin

from gunmane.web.accounts.models import Membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "municipality", "role"]
    list_filter = ["role", "municipality__prefecture"]
    search_fields = ["user__username", "municipality__name", "municipality__lg_code"]
    autocomplete_fields = ["municipality"]
    raw_id_fields = ["user"]
