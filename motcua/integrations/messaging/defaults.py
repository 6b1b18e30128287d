"""The Vietnamese default templates, seeded by a data migration and restorable from the desk."""

SMS = {
    "received": "Hồ sơ {{ code }} ({{ procedure }}) đã được tiếp nhận. Hẹn trả kết quả: {{ due_at }}.",
    "completion_requested": "Hồ sơ {{ code }} cần bổ sung: {{ reason }}. Vui lòng bổ sung trên Cổng DVC.",
    "fee_requested": "Hồ sơ {{ code }}: vui lòng nộp phí, lệ phí {{ amount }} đồng trên Cổng DVC.",
    "result_ready": "Hồ sơ {{ code }} đã có kết quả. Mời Ông/Bà nhận kết quả.",
    "apology": "Xin lỗi Ông/Bà: hồ sơ {{ code }} bị chậm. Hẹn trả kết quả mới: {{ new_due_at }}.",
    "returned": "Hồ sơ {{ code }} đã trả kết quả. Cảm ơn Ông/Bà.",
}

EMAIL_SUBJECTS = {
    "received": "Hồ sơ {{ code }} đã được tiếp nhận",
    "completion_requested": "Hồ sơ {{ code }} cần bổ sung",
    "fee_requested": "Hồ sơ {{ code }}: đề nghị nộp phí, lệ phí",
    "result_ready": "Hồ sơ {{ code }} đã có kết quả",
    "apology": "Thư xin lỗi về việc trễ hạn hồ sơ {{ code }}",
    "returned": "Hồ sơ {{ code }} đã trả kết quả",
}

EMAIL = {
    "received": "Kính gửi {{ applicant_name }},\n\nHồ sơ {{ code }} ({{ procedure }}) đã được tiếp nhận.\n"
    "Thời hạn trả kết quả: {{ due_at }}.\n\nBộ phận Một cửa",
    "completion_requested": "Kính gửi {{ applicant_name }},\n\nHồ sơ {{ code }} cần được bổ sung, hoàn thiện:\n"
    "{{ reason }}\n\nBộ phận Một cửa",
    "fee_requested": "Kính gửi {{ applicant_name }},\n\nĐề nghị Ông/Bà nộp phí, lệ phí {{ amount }} đồng cho hồ sơ "
    "{{ code }} trên Cổng Dịch vụ công.\n\nBộ phận Một cửa",
    "result_ready": "Kính gửi {{ applicant_name }},\n\nHồ sơ {{ code }} đã có kết quả.\n\nBộ phận Một cửa",
    "apology": "Kính gửi {{ applicant_name }},\n\n"
    "Chúng tôi xin lỗi vì hồ sơ {{ code }} chưa được giải quyết đúng hạn.\n"
    "Thời hạn mới: {{ new_due_at }}.\n\nBộ phận Một cửa",
    "returned": "Kính gửi {{ applicant_name }},\n\nHồ sơ {{ code }} đã được trả kết quả. Xin cảm ơn."
    "\n\nBộ phận Một cửa",
}

# ZNS: the text is what we log; Zalo renders its approved template from the parameters.
# SMS text is Unicode (IsUnicode=1 is set by the adapter when needed), about 70 characters a part.
ZALO = {event: text for event, text in SMS.items()}


def rows() -> list[dict]:
    out = []
    for event in SMS:
        out.append({"event": event, "channel": "sms", "subject": "", "body": SMS[event]})
        out.append({"event": event, "channel": "email", "subject": EMAIL_SUBJECTS[event], "body": EMAIL[event]})
        out.append({"event": event, "channel": "zalo", "subject": "", "body": ZALO[event]})
    return out
