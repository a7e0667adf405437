from __future__ import annotations

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone

from gunmane.web.accounts.models import Membership

User = get_user_model()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "municipality", "role"]
    list_filter = ["role", "municipality__prefecture"]
    search_fields = ["user__username", "municipality__name", "municipality__lg_code"]
    autocomplete_fields = ["municipality"]
    raw_id_fields = ["user"]


def is_login_locked(username: str) -> bool:
    """Whether django-axes currently refuses this user's logins from at least one address."""
    since = timezone.now() - settings.AXES_COOLOFF_TIME
    per_address = (AccessAttempt.objects.filter(username=username, attempt_time__gte=since)
                   .values("ip_address").annotate(failures=Sum("failures_since_start")))
    return any(row["failures"] >= settings.AXES_FAILURE_LIMIT for row in per_address)


admin.site.unregister(User)


@admin.register(User)
class GunmaneUserAdmin(UserAdmin):
    """Django's user admin plus the lockout: admins see who is locked and unlock them here, in
    Japanese, without the command line (the raw records stay under Axes › Access attempts)."""

    list_display = (*UserAdmin.list_display, "login_locked")  # type: ignore[misc]  # django-stubs: an instance variable of the generic ModelAdmin
    actions = ["unlock_login"]

    @admin.display(description="ログインのロック", boolean=True)
    def login_locked(self, user: AbstractBaseUser) -> bool:
        return is_login_locked(user.get_username())

    @admin.action(description="選択した利用者のログインのロックを解除する")
    def unlock_login(self, request: HttpRequest, queryset: QuerySet) -> None:
        names = [user.get_username() for user in queryset]
        removed = sum(axes_reset(username=name) for name in names)
        self.message_user(
            request, f"{len(names)} 人のログインのロックを解除しました（失敗の記録 {removed} 件を消去）：{'、'.join(names)}",
            messages.SUCCESS)
