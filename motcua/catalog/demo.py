"""The demo catalogue: nine real procedures of the four levels, for the demo province (Vĩnh Phúc, 2020).

Everything here is demonstration data for the agencies of ``motcua.org.demo`` (load that first).
National codes 1.001193, 1.000894, 2.000815, 2.000884, 2.000635 and 1.001612 were checked against
public procedure data; the other codes, the field codes and the amounts set by provincial
resolutions are marked "cần đối chiếu" in their text. Legal bases are those in force for the
2020 four-level organisation the demo shows. ``load()`` goes through the catalogue import, so
loading twice changes nothing and a changed entry here becomes a new published version.
"""

from django.db import transaction

from motcua.catalog import services

VERIFY_CODE = "Mã cần đối chiếu với CSDLQG về TTHC."

COMMUNES = ["000.21.31.H62", "000.22.31.H62", "000.21.32.H62", "000.22.32.H62"]
DISTRICT_JUSTICE = ["000.04.31.H62", "000.04.32.H62"]
DISTRICT_FINANCE = ["000.02.31.H62", "000.02.32.H62"]
DISTRICT_LABOUR = ["000.03.31.H62", "000.03.32.H62"]
LAND_BRANCHES = ["001.01.12.H62", "002.01.12.H62"]

CIVIL_STATUS = {"field_code": "HO_TICH", "field_name": "Hộ tịch"}
CERTIFICATION = {"field_code": "CHUNG_THUC", "field_name": "Chứng thực"}
HOUSEHOLD_BUSINESS = {"field_code": "HO_KINH_DOANH", "field_name": "Thành lập và hoạt động của hộ kinh doanh"}
LAND = {"field_code": "DAT_DAI", "field_name": "Đất đai"}
MERIT = {"field_code": "NGUOI_CO_CONG", "field_name": "Người có công"}
CRIMINAL_RECORD = {"field_code": "LY_LICH_TU_PHAP", "field_name": "Lý lịch tư pháp"}

CIVIL_STATUS_LAW = (
    "Luật Hộ tịch số 60/2014/QH13 ngày 20/11/2014;\n"
    "Nghị định số 123/2015/NĐ-CP ngày 15/11/2015 của Chính phủ;\n"
    "Thông tư số 04/2020/TT-BTP ngày 28/5/2020 của Bộ Tư pháp."
)
CERTIFICATION_LAW = (
    "Nghị định số 23/2015/NĐ-CP ngày 16/02/2015 của Chính phủ;\n"
    "Thông tư số 01/2020/TT-BTP ngày 03/3/2020 của Bộ Tư pháp;\n"
    "Thông tư số 226/2016/TT-BTC ngày 11/11/2016 của Bộ Tài chính."
)


def _doc(name: str, originals: int = 1, copies: int = 0, condition: str = "") -> dict:
    return {
        "name": name,
        "originals": originals,
        "copies": copies,
        "requirement": "conditional" if condition else "mandatory",
        "condition_note": condition,
    }


def _fee(name: str, amount: int, kind: str = "charge", exemption: str = "") -> dict:
    return {"name": name, "kind": kind, "amount": amount, "exemption_note": exemption}


def _field(name: str, label: str, type_: str = "text", required: bool = True, choices=(), help_text: str = "") -> dict:
    return {
        "name": name,
        "label": label,
        "type": type_,
        "required": required,
        "choices": list(choices),
        "help_text": help_text,
    }


PROCEDURES: list[dict] = [
    {
        "code": "1.001193",
        "name": "Đăng ký khai sinh",
        **CIVIL_STATUS,
        "levels": ["commune"],
        "agencies": COMMUNES,
        "legal_basis": CIVIL_STATUS_LAW,
        "time_kind": "immediate",
        "resolution_days": 0,
        "result_type": "Giấy khai sinh (bản chính).",
        "online_level": "full",
        "description": (
            "Giải quyết ngay sau khi nhận đủ giấy tờ hợp lệ; nhận hồ sơ sau 15 giờ mà không giải quyết được ngay "
            "thì trả kết quả trong ngày làm việc tiếp theo."
        ),
        "components": [
            _doc("Tờ khai đăng ký khai sinh theo mẫu"),
            _doc("Giấy chứng sinh hoặc văn bản của người làm chứng xác nhận về việc sinh"),
            _doc("Văn bản ủy quyền có chứng thực", condition="Khi ủy quyền cho người khác đi đăng ký khai sinh"),
        ],
        "fees": [
            _fee(
                "Lệ phí đăng ký khai sinh",
                0,
                exemption="Miễn lệ phí khi đăng ký khai sinh đúng hạn (khoản 1 Điều 11 Luật Hộ tịch).",
            )
        ],
        "form_fields": [
            _field("ho_ten_tre", "Họ, chữ đệm và tên của trẻ"),
            _field("ngay_sinh", "Ngày, tháng, năm sinh", "date"),
            _field("gioi_tinh", "Giới tính", "choice", choices=["Nam", "Nữ"]),
            _field("so_dinh_danh_me", "Số định danh cá nhân của mẹ", "id_number"),
            _field("dien_thoai", "Số điện thoại liên hệ", "phone", required=False),
        ],
    },
    {
        "code": "1.000894",
        "name": "Đăng ký kết hôn",
        **CIVIL_STATUS,
        "levels": ["commune"],
        "agencies": COMMUNES,
        "legal_basis": CIVIL_STATUS_LAW,
        "time_kind": "immediate",
        "resolution_days": 0,
        "result_type": "Giấy chứng nhận kết hôn (mỗi bên một bản chính).",
        "online_level": "partial",
        "description": (
            "Giải quyết ngay sau khi nhận đủ giấy tờ hợp lệ; trường hợp cần xác minh điều kiện kết hôn thì không "
            "quá 05 ngày làm việc. Hai bên nam, nữ phải có mặt khi đăng ký."
        ),
        "requirements": "Nam từ đủ 20 tuổi, nữ từ đủ 18 tuổi; việc kết hôn do hai bên tự nguyện quyết định.",
        "components": [
            _doc("Tờ khai đăng ký kết hôn theo mẫu"),
            _doc(
                "Giấy xác nhận tình trạng hôn nhân",
                condition="Khi bên nam hoặc bên nữ không thường trú tại xã, phường nơi đăng ký kết hôn",
            ),
        ],
        "fees": [
            _fee(
                "Lệ phí đăng ký kết hôn",
                0,
                exemption="Miễn lệ phí đối với công dân Việt Nam cư trú ở trong nước (khoản 1 Điều 11 Luật Hộ tịch).",
            )
        ],
        "form_fields": [
            _field("ho_ten_chong", "Họ, chữ đệm và tên bên nam"),
            _field("so_dinh_danh_chong", "Số định danh cá nhân bên nam", "id_number"),
            _field("ho_ten_vo", "Họ, chữ đệm và tên bên nữ"),
            _field("so_dinh_danh_vo", "Số định danh cá nhân bên nữ", "id_number"),
            _field("ngay_du_kien", "Ngày dự kiến đến đăng ký", "date", required=False),
        ],
    },
    {
        "code": "2.000815",
        "name": (
            "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam cấp "
            "hoặc chứng nhận"
        ),
        **CERTIFICATION,
        "levels": ["commune", "district"],
        "agencies": COMMUNES + DISTRICT_JUSTICE,
        "legal_basis": CERTIFICATION_LAW,
        "time_kind": "same_day",
        "resolution_days": 1,
        "same_day_cutoff": "15:00",
        "result_type": "Bản sao được chứng thực từ bản chính.",
        "online_level": "partial",
        "description": "Trong ngày tiếp nhận yêu cầu, hoặc ngày làm việc tiếp theo nếu tiếp nhận sau 15 giờ.",
        "components": [
            _doc("Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao"),
            _doc("Bản sao cần chứng thực", originals=0, copies=1, condition="Khi người yêu cầu tự mang bản sao đến"),
        ],
        "fees": [
            _fee(
                "Phí chứng thực bản sao từ bản chính (mỗi trang)",
                2000,
                kind="fee",
                exemption="Từ trang thứ ba trở lên thu 1.000 đồng/trang, tối đa 200.000 đồng/bản.",
            )
        ],
        "form_fields": [
            _field("ho_ten", "Họ và tên người yêu cầu"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("so_ban_sao", "Số bản sao cần chứng thực", "integer"),
            _field("so_trang", "Số trang của bản chính", "integer"),
        ],
    },
    {
        "code": "2.000884",
        "name": (
            "Chứng thực chữ ký trong các giấy tờ, văn bản (áp dụng cho cả trường hợp chứng thực điểm chỉ và trường "
            "hợp người yêu cầu chứng thực không thể ký, không thể điểm chỉ được)"
        ),
        **CERTIFICATION,
        "levels": ["commune", "district"],
        "agencies": COMMUNES + DISTRICT_JUSTICE,
        "legal_basis": CERTIFICATION_LAW,
        "time_kind": "same_day",
        "resolution_days": 1,
        "same_day_cutoff": "15:00",
        "result_type": "Giấy tờ, văn bản đã được chứng thực chữ ký.",
        "online_level": "none",
        "description": (
            "Người yêu cầu phải ký trước mặt người thực hiện chứng thực. Trong ngày tiếp nhận yêu cầu, hoặc ngày "
            "làm việc tiếp theo nếu tiếp nhận sau 15 giờ."
        ),
        "components": [
            _doc("Giấy tờ tùy thân còn giá trị sử dụng của người yêu cầu chứng thực", originals=1),
            _doc("Giấy tờ, văn bản mà mình sẽ ký"),
        ],
        "fees": [_fee("Phí chứng thực chữ ký (mỗi trường hợp)", 10000, kind="fee")],
        "form_fields": [
            _field("ho_ten", "Họ và tên người yêu cầu"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("ten_giay_to", "Tên giấy tờ, văn bản cần chứng thực chữ ký"),
        ],
    },
    {
        "code": "2.000635",
        "name": "Cấp bản sao trích lục hộ tịch",
        **CIVIL_STATUS,
        "levels": ["commune", "district"],
        "agencies": COMMUNES + DISTRICT_JUSTICE,
        "legal_basis": CIVIL_STATUS_LAW + "\nThông tư số 281/2016/TT-BTC ngày 14/11/2016 của Bộ Tài chính.",
        "time_kind": "working_days",
        "resolution_days": 0.5,
        "result_type": "Bản sao trích lục hộ tịch.",
        "online_level": "full",
        "description": (
            "Thời hạn nửa ngày làm việc theo phương án cắt giảm thời gian của tỉnh (dữ liệu minh họa, cần đối "
            "chiếu quyết định công bố)."
        ),
        "components": [_doc("Tờ khai cấp bản sao trích lục hộ tịch theo mẫu")],
        "fees": [
            _fee(
                "Phí cấp bản sao trích lục hộ tịch (mỗi bản)",
                8000,
                kind="fee",
                exemption=(
                    "Miễn cho người thuộc gia đình có công với cách mạng, hộ nghèo, người khuyết tật (cần đối chiếu)."
                ),
            )
        ],
        "form_fields": [
            _field("ho_ten", "Họ và tên người yêu cầu"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("loai_trich_luc", "Loại trích lục", "choice", choices=["Khai sinh", "Kết hôn", "Khai tử"]),
            _field("so_ban", "Số bản sao", "integer"),
        ],
    },
    {
        "code": "1.001612",
        "name": "Đăng ký thành lập hộ kinh doanh",
        **HOUSEHOLD_BUSINESS,
        "levels": ["district"],
        "agencies": DISTRICT_FINANCE,
        "legal_basis": (
            "Luật Doanh nghiệp số 59/2020/QH14;\n"
            "Nghị định số 01/2021/NĐ-CP ngày 04/01/2021 của Chính phủ;\n"
            "Thông tư số 01/2021/TT-BKHĐT ngày 16/3/2021 của Bộ Kế hoạch và Đầu tư."
        ),
        "time_kind": "working_days",
        "resolution_days": 3,
        "result_type": "Giấy chứng nhận đăng ký hộ kinh doanh.",
        "online_level": "full",
        "components": [
            _doc("Giấy đề nghị đăng ký hộ kinh doanh"),
            _doc("Bản sao giấy tờ pháp lý của cá nhân của chủ hộ và các thành viên hộ gia đình", originals=0, copies=1),
            _doc(
                "Bản sao biên bản họp thành viên hộ gia đình về việc thành lập hộ kinh doanh",
                originals=0,
                copies=1,
                condition="Khi các thành viên hộ gia đình cùng đăng ký hộ kinh doanh",
            ),
        ],
        "fees": [
            _fee(
                "Lệ phí đăng ký hộ kinh doanh",
                100000,
                exemption="Miễn lệ phí khi đăng ký qua mạng (mức thu theo Nghị quyết HĐND tỉnh, cần đối chiếu).",
            )
        ],
        "form_fields": [
            _field("ten_ho_kinh_doanh", "Tên hộ kinh doanh"),
            _field("dia_diem", "Địa điểm kinh doanh", "textarea"),
            _field("nganh_nghe", "Ngành, nghề kinh doanh", "textarea"),
            _field("von_kinh_doanh", "Vốn kinh doanh (đồng)", "decimal"),
            _field("so_dinh_danh_chu_ho", "Số định danh cá nhân của chủ hộ", "id_number"),
        ],
    },
    {
        "code": "1.004227",
        "name": (
            "Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất "
            "lần đầu"
        ),
        **LAND,
        "levels": ["commune", "district", "province"],
        "agencies": COMMUNES + LAND_BRANCHES + ["000.01.12.H62"],
        "legal_basis": (
            "Luật Đất đai số 45/2013/QH13;\n"
            "Nghị định số 43/2014/NĐ-CP ngày 15/5/2014 của Chính phủ;\n"
            "Nghị định số 01/2017/NĐ-CP ngày 06/01/2017 của Chính phủ;\n"
            "Thông tư số 24/2014/TT-BTNMT ngày 19/5/2014 của Bộ Tài nguyên và Môi trường."
        ),
        "time_kind": "working_days",
        "resolution_days": 30,
        "result_type": "Giấy chứng nhận quyền sử dụng đất, quyền sở hữu nhà ở và tài sản khác gắn liền với đất.",
        "online_level": "partial",
        "description": (
            f"{VERIFY_CODE} Liên thông: UBND cấp xã xác nhận và niêm yết, Chi nhánh Văn phòng Đăng ký đất đai cấp "
            "huyện thẩm tra, Văn phòng Đăng ký đất đai tỉnh trình ký. Không kể thời gian niêm yết công khai và thực "
            "hiện nghĩa vụ tài chính. Căn cứ pháp lý theo năm 2020 (Luật Đất đai 2024 đã thay thế)."
        ),
        "components": [
            _doc("Đơn đăng ký, cấp Giấy chứng nhận (Mẫu số 04a/ĐK)"),
            _doc(
                "Giấy tờ về quyền sử dụng đất theo Điều 100 Luật Đất đai",
                originals=0,
                copies=1,
                condition="Khi người sử dụng đất có một trong các loại giấy tờ đó",
            ),
            _doc(
                "Chứng từ thực hiện nghĩa vụ tài chính hoặc giấy tờ về miễn, giảm nghĩa vụ tài chính",
                originals=0,
                copies=1,
                condition="Khi đã thực hiện hoặc được miễn, giảm nghĩa vụ tài chính",
            ),
        ],
        "fees": [
            _fee(
                "Lệ phí cấp Giấy chứng nhận",
                25000,
                exemption="Mức thu và miễn, giảm theo Nghị quyết HĐND tỉnh (mức minh họa, cần đối chiếu).",
            ),
            _fee(
                "Phí thẩm định hồ sơ cấp Giấy chứng nhận", 500000, kind="fee", exemption="Mức minh họa, cần đối chiếu."
            ),
        ],
        "form_fields": [
            _field("ho_ten", "Họ và tên người sử dụng đất"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("dia_chi_thua_dat", "Địa chỉ thửa đất", "textarea"),
            _field("to_ban_do_thua", "Tờ bản đồ số, thửa đất số"),
            _field("dien_tich", "Diện tích (m²)", "decimal"),
        ],
    },
    {
        "code": "1.010820",
        "name": "Giải quyết chế độ trợ cấp thờ cúng liệt sĩ",
        **MERIT,
        "levels": ["commune", "district", "province"],
        "agencies": COMMUNES + DISTRICT_LABOUR + ["000.00.13.H62"],
        "legal_basis": (
            "Pháp lệnh Ưu đãi người có công với cách mạng số 02/2020/UBTVQH14;\n"
            "Nghị định số 131/2021/NĐ-CP ngày 30/12/2021 của Chính phủ."
        ),
        "time_kind": "working_days",
        "resolution_days": 27,
        "result_type": "Quyết định trợ cấp thờ cúng liệt sĩ.",
        "online_level": "partial",
        "description": (
            f"{VERIFY_CODE} Liên thông: UBND cấp xã 5 ngày, Phòng Lao động - Thương binh và Xã hội 10 ngày, Sở Lao "
            "động - Thương binh và Xã hội 12 ngày làm việc (thời hạn minh họa). Kết quả gửi qua bưu điện về UBND cấp "
            "xã để trả cho người đề nghị."
        ),
        "components": [
            _doc("Bản khai đề nghị hưởng trợ cấp thờ cúng liệt sĩ (Mẫu số 18)"),
            _doc(
                "Văn bản ủy quyền thờ cúng liệt sĩ",
                condition="Khi liệt sĩ có nhiều thân nhân hoặc người khác được ủy quyền thờ cúng",
            ),
        ],
        "fees": [_fee("Không thu phí, lệ phí", 0, exemption="Thủ tục không thu phí, lệ phí.")],
        "form_fields": [
            _field("ho_ten_nguoi_tho_cung", "Họ và tên người thờ cúng"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("ho_ten_liet_si", "Họ và tên liệt sĩ"),
            _field(
                "quan_he",
                "Quan hệ với liệt sĩ",
                "choice",
                choices=["Con", "Vợ hoặc chồng", "Anh, chị, em ruột", "Người được ủy quyền thờ cúng"],
            ),
            _field("dien_thoai", "Số điện thoại", "phone"),
        ],
    },
    {
        "code": "2.001417",
        "name": "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        **CRIMINAL_RECORD,
        "levels": ["province"],
        "agencies": ["000.00.14.H62", "000.00.24.H62"],
        "legal_basis": (
            "Luật Lý lịch tư pháp số 28/2009/QH12;\n"
            "Nghị định số 111/2010/NĐ-CP ngày 23/11/2010 của Chính phủ;\n"
            "Thông tư số 244/2016/TT-BTC ngày 11/11/2016 của Bộ Tài chính."
        ),
        "time_kind": "working_days",
        "resolution_days": 10,
        "result_type": "Phiếu lý lịch tư pháp số 1 hoặc số 2.",
        "online_level": "full",
        "description": (
            f"{VERIFY_CODE} Không quá 10 ngày; cần xác minh điều kiện đương nhiên được xóa án tích thì không quá 15 "
            "ngày. Nộp tại Trung tâm Phục vụ hành chính công tỉnh, Sở Tư pháp giải quyết (mô hình năm 2020; từ "
            "01/7/2025 thủ tục do Công an cấp tỉnh thực hiện)."
        ),
        "components": [
            _doc("Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp theo mẫu"),
            _doc("Bản chụp giấy tờ tùy thân của người được cấp Phiếu", originals=0, copies=1),
            _doc(
                "Văn bản ủy quyền",
                condition="Khi ủy quyền cho người khác làm thủ tục yêu cầu cấp Phiếu lý lịch tư pháp số 1",
            ),
        ],
        "fees": [
            _fee(
                "Phí cung cấp thông tin lý lịch tư pháp",
                200000,
                kind="fee",
                exemption=(
                    "Sinh viên, người có công với cách mạng, thân nhân liệt sĩ: 100.000 đồng/lần; miễn cho trẻ em, "
                    "người cao tuổi, người khuyết tật, người thuộc hộ nghèo."
                ),
            ),
            _fee("Phí cấp thêm Phiếu lý lịch tư pháp từ Phiếu thứ 3 trở đi (mỗi Phiếu)", 5000, kind="fee"),
        ],
        "form_fields": [
            _field("ho_ten", "Họ và tên"),
            _field("so_dinh_danh", "Số định danh cá nhân", "id_number"),
            _field("ngay_sinh", "Ngày, tháng, năm sinh", "date"),
            _field("loai_phieu", "Loại Phiếu yêu cầu cấp", "choice", choices=["Phiếu số 1", "Phiếu số 2"]),
            _field("email", "Thư điện tử nhận thông báo", "email", required=False),
        ],
    },
]


@transaction.atomic
def load() -> None:
    """Create or refresh the demo catalogue; needs the organisation demo (its agencies and levels)."""
    report = services.import_records(PROCEDURES)
    if report.errors:
        problems = "; ".join(f"{row.code}: {' '.join(row.messages)}" for row in report.errors)
        raise RuntimeError(f"The demo catalogue could not be loaded: {problems}")
