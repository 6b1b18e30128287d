"""The National Public Service Portal (Cổng Dịch vụ công quốc gia, DVCQG) adapter.

``mapping`` (pure: our dossiers ↔ the portal's fields, codes and dates), ``client`` (HTTP with
both authentication styles, no Django), ``simulator`` (a real HTTP portal for tests and the
demo), ``services`` (configuration, the outbox sender, dead letters, inbound dossiers, the
catalogue refresh) and ``selectors``. See shared/reference/integrations.md §1.
"""
