"""Staff pages of the dossiers app: the counter screen, the search, dossier pages, slips and files."""

from django.urls import path

from motcua.dossiers import views

app_name = "dossiers"

urlpatterns = [
    path("staff/login/", views.StaffLoginView.as_view(), name="login"),
    path("staff/logout/", views.StaffLogoutView.as_view(), name="logout"),
    path("staff/password/", views.StaffPasswordChangeView.as_view(), name="password-change"),
    path("counter/", views.counter, name="counter"),
    path("counter/procedures/", views.counter_procedures, name="counter-procedures"),
    path("counter/go/", views.counter_go, name="counter-go"),
    path("counter/seat/", views.counter_seat, name="counter-seat"),
    path("counter/procedures/<str:procedure_code>/", views.counter_form, name="counter-form"),
    path("dossiers/", views.dossier_search, name="search"),
    path("dossiers/id/<int:pk>/", views.dossier_detail_by_id, name="detail-by-id"),
    path("dossiers/id/<int:pk>/slip/", views.slip_by_id, name="slip-by-id"),
    path("dossiers/id/<int:pk>/slip.pdf", views.slip_pdf_by_id, name="slip-pdf-by-id"),
    path("dossiers/documents/<int:pk>/", views.document_download, name="document"),
    path("dossiers/tracking-book/", views.tracking_book, name="tracking-book"),
    path("dossiers/<str:code>/", views.dossier_detail, name="detail"),
    path("dossiers/<str:code>/slip/", views.slip, name="slip"),
    path("dossiers/<str:code>/slip.pdf", views.slip_pdf, name="slip-pdf"),
]
