from django.urls import path

from motcua.integrations.payments import views

app_name = "payments"
urlpatterns = [
    path("fees/<int:fee_id>/", views.pay, name="pay"),
    path("return/", views.payment_return, name="return"),
    path("receipts/<int:receipt_id>.pdf", views.receipt_pdf, name="receipt"),
    path("ipn/", views.ipn, name="ipn"),
    path("staff/dossiers/<int:dossier_id>/fee/", views.staff_request_fee, name="staff-request"),
    path("staff/fees/<int:fee_id>/cancel/", views.staff_cancel_fee, name="staff-cancel"),
    path("staff/fees/<int:fee_id>/counter/", views.staff_counter_payment, name="staff-counter"),
]
