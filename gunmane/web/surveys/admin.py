from django.contrib import admin

from gunmane.web.surveys.models import Question, Recipient, Response, Survey


class QuestionInline(admin.TabularInline):
    model = Question
    fk_name = "survey"
    extra = 0
    fields = ["order", "key", "kind", "text", "required"]


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ["title", "group", "audience", "status", "closes_on", "created_at"]
    list_filter = ["status", "audience"]
    search_fields = ["title", "group__name"]
    inlines = [QuestionInline]


@admin.register(Recipient)
class RecipientAdmin(admin.ModelAdmin):
    list_display = ["name", "survey", "expires_on", "created_at"]
    search_fields = ["name", "survey__title"]
    readonly_fields = ["token"]


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["recipient", "status", "updated_at", "submitted_at"]
    list_filter = ["status"]
