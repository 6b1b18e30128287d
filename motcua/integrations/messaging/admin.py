"""Desk: message templates (checked in the sandbox before saving), the message log with its attempts."""

from django import forms
from django.contrib import admin
from unfold.admin import ModelAdmin, TabularInline

from motcua.integrations.messaging.models import Attempt, MessageTemplate, Outgoing, ZaloToken
from motcua.integrations.messaging.rendering import compile_text


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["event", "channel", "subject", "body", "zns_template_id", "active"]

    def clean_body(self) -> str:
        body = self.cleaned_data["body"]
        compile_text(body)
        return body

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"]
        if subject:
            compile_text(subject)
        return subject


@admin.register(MessageTemplate)
class MessageTemplateAdmin(ModelAdmin):
    form = MessageTemplateForm
    list_display = ["event", "channel", "active", "updated_at"]
    list_filter = ["event", "channel", "active"]


class AttemptInline(TabularInline):
    model = Attempt
    extra = 0
    can_delete = False
    readonly_fields = ["at", "ok", "detail"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Outgoing)
class OutgoingAdmin(ModelAdmin):
    list_display = ["created_at", "dossier", "event", "channel", "recipient", "status", "attempts"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["dossier__code", "recipient"]
    inlines = [AttemptInline]
    readonly_fields = [f.name for f in Outgoing._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ZaloToken)
class ZaloTokenAdmin(ModelAdmin):
    list_display = ["app_id", "expires_at", "refreshed_at"]
    readonly_fields = ["refreshed_at"]
