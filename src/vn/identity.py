"""Vietnamese identity data: ID numbers, CCCD structure, BHYT cards, chip-card QR, names.

CCCD (12 digits, Thông tư 07/2016/TT-BCA): digits 1–3 province of birth registration,
digit 4 century and sex (0/1 = male/female born 1900–1999, 2/3 = 2000–2099,
4/5 = 2100–2199), digits 5–6 last two digits of the birth year, digits 7–12 random.
"000000000" is what children without any ID enter: it means "no ID", never a shared key.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from khaibao.core import clock
from khaibao.core.errors import InputError
from khaibao.core.i18n import N_
from khaibao.core.text import fold_diacritics

NO_ID_NUMBER = "000000000"

# Province codes of birth registration (Thông tư 07/2016/TT-BCA, 63 provinces before 2025).
PROVINCE_CODES: dict[str, str] = {
    "001": "Hà Nội", "002": "Hà Giang", "004": "Cao Bằng", "006": "Bắc Kạn",
    "008": "Tuyên Quang", "010": "Lào Cai", "011": "Điện Biên", "012": "Lai Châu",
    "014": "Sơn La", "015": "Yên Bái", "017": "Hòa Bình", "019": "Thái Nguyên",
    "020": "Lạng Sơn", "022": "Quảng Ninh", "024": "Bắc Giang", "025": "Phú Thọ",
    "026": "Vĩnh Phúc", "027": "Bắc Ninh", "030": "Hải Dương", "031": "Hải Phòng",
    "033": "Hưng Yên", "034": "Thái Bình", "035": "Hà Nam", "036": "Nam Định",
    "037": "Ninh Bình", "038": "Thanh Hóa", "040": "Nghệ An", "042": "Hà Tĩnh",
    "044": "Quảng Bình", "045": "Quảng Trị", "046": "Thừa Thiên Huế", "048": "Đà Nẵng",
    "049": "Quảng Nam", "051": "Quảng Ngãi", "052": "Bình Định", "054": "Phú Yên",
    "056": "Khánh Hòa", "058": "Ninh Thuận", "060": "Bình Thuận", "062": "Kon Tum",
    "064": "Gia Lai", "066": "Đắk Lắk", "067": "Đắk Nông", "068": "Lâm Đồng",
    "070": "Bình Phước", "072": "Tây Ninh", "074": "Bình Dương", "075": "Đồng Nai",
    "077": "Bà Rịa - Vũng Tàu", "079": "TP Hồ Chí Minh", "080": "Long An",
    "082": "Tiền Giang", "083": "Bến Tre", "084": "Trà Vinh", "086": "Vĩnh Long",
    "087": "Đồng Tháp", "089": "An Giang", "091": "Kiên Giang", "092": "Cần Thơ",
    "093": "Hậu Giang", "094": "Sóc Trăng", "095": "Bạc Liêu", "096": "Cà Mau",
}

# BHYT beneficiary group codes (first two letters of a 15-character card number).
BHYT_GROUPS: frozenset[str] = frozenset(
    "DN HX CH NN TK HC XK CA HT TB NO CT XB TN CS XN MS CC CK CB KC HD TE BT HN DT DK XD "
    "TS TC TQ TA TY HG LS PV CN HS SV GB GD QN CY NK".split()
)


class IdentityError(InputError):
    """Invalid identity data (ID number, CCCD, BHYT, chip-card QR, name, birth year)."""


class IdType(StrEnum):
    CCCD = "cccd"
    CMND = "cmnd"
    PASSPORT = "passport"
    NONE = "none"


class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"

    @property
    def label(self) -> str:
        """The word every screen shows (a catalog msgid: "Nam" / "Nữ", "Male" / "Female")."""
        return SEX_LABELS[self]

    @property
    def label_vi(self) -> str:
        return "Nam" if self is Sex.MALE else "Nữ"

    @property
    def label_en(self) -> str:
        return "Male" if self is Sex.MALE else "Female"

    @classmethod
    def parse(cls, value: str | Sex) -> Sex:
        """Accept ``Sex``, "male"/"female" or the Vietnamese labels "Nam"/"Nữ"."""
        folded = fold_diacritics(str(value)).strip()
        if folded in ("male", "nam"):
            return cls.MALE
        if folded in ("female", "nu"):
            return cls.FEMALE
        raise IdentityError("sex.invalid", N_("Giới tính phải là Nam hoặc Nữ."))


SEX_LABELS = {Sex.MALE: N_("Nam"), Sex.FEMALE: N_("Nữ")}


@dataclass(frozen=True, slots=True)
class ParsedId:
    id_type: IdType
    number: str


@dataclass(frozen=True, slots=True)
class CccdInfo:
    province_code: str
    province_name: str
    birth_year: int
    sex: Sex


@dataclass(frozen=True, slots=True)
class Bhyt:
    full: str | None  # the 15-character card number, None when only the 10 digits were given
    social_insurance_number: str
    group: str | None = None
    benefit_level: int | None = None
    province_code: str | None = None


@dataclass(frozen=True, slots=True)
class ChipCard:
    cccd: str
    old_id: str | None
    full_name: str
    birth_date: date
    sex: Sex
    address: str
    issue_date: date


def _compact(raw: str | None) -> str:
    """NFKC (full-width digits → ASCII), drop all whitespace, uppercase."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


# What people put between the groups of an ID number's digits: spaces, dashes, dots.
_ID_SEPARATORS = re.compile(r"[\s.\-‐‑–—]")


def _compact_id(raw: str | None) -> str:
    """An ID number as typed, without its separators: "046 090-001.234" → "046090001234".
    The same for every document type (a CMND with spaces, a CCCD with dashes)."""
    return _ID_SEPARATORS.sub("", unicodedata.normalize("NFKC", raw or "")).upper()


_VN_PASSPORT = re.compile(r"[A-Z][0-9]{7}")
_ALNUM = re.compile(r"[A-Z0-9]+")


def _foreign_passport(n: str, strict: bool) -> bool:
    """6–12 letters/digits; when guessing the type, also at least one letter and one digit."""
    return 6 <= len(n) <= 12 and bool(_ALNUM.fullmatch(n)) and (
        not strict or (any(c.isalpha() for c in n) and any(c.isdigit() for c in n)))


def parse_id_number(raw: str | None, id_type: IdType | str | None = None) -> ParsedId:
    """Parse an ID number, detecting its type when ``id_type`` is None.

    Spaces, dashes and dots between the digits are ignored and letters uppercased.
    "000000000" always means "no ID" (``IdType.NONE``). A CCCD is also checked for a valid
    province code and digit 4.
    """
    n = _compact_id(raw)
    wanted = IdType(id_type) if id_type is not None else None
    if n == NO_ID_NUMBER or (wanted is IdType.NONE and n == ""):
        return ParsedId(IdType.NONE, NO_ID_NUMBER)
    if not n:
        raise IdentityError("id.required", N_("Hãy nhập số giấy tờ tùy thân."))
    if not n.isascii() or not _ALNUM.fullmatch(n):
        raise IdentityError("id.invalid",
                            N_("Số giấy tờ chỉ gồm chữ số và chữ cái không dấu (A–Z)."))
    if wanted is None:
        if n.isdigit() and len(n) == 12:
            wanted = IdType.CCCD
        elif n.isdigit() and len(n) == 9:
            wanted = IdType.CMND
        elif _VN_PASSPORT.fullmatch(n) or _foreign_passport(n, strict=True):
            return ParsedId(IdType.PASSPORT, n)
        elif n.isdigit():
            raise IdentityError(
                "id.length", N_("Số CCCD có 12 chữ số, CMND có 9 chữ số. Hãy kiểm tra lại."))
        else:
            raise IdentityError(
                "id.invalid", N_("Số giấy tờ không đúng định dạng CCCD, CMND hay hộ chiếu."))
    if wanted is IdType.CCCD:
        if not (n.isdigit() and len(n) == 12):
            raise _cccd_format()
        decode_cccd(n)
    elif wanted is IdType.CMND:
        if not (n.isdigit() and len(n) in (9, 12)):
            raise IdentityError("id.cmnd_format", N_("Số CMND phải gồm 9 hoặc 12 chữ số."))
    elif wanted is IdType.PASSPORT:
        if not (_VN_PASSPORT.fullmatch(n) or _foreign_passport(n, strict=False)):
            raise IdentityError(
                "id.passport_format",
                N_("Số hộ chiếu Việt Nam gồm 1 chữ cái và 7 chữ số (ví dụ: C1234567); "
                   "hộ chiếu nước ngoài gồm 6–12 chữ cái hoặc chữ số."))
    else:  # IdType.NONE with something other than the zeros
        raise IdentityError("id.none_format", N_("Người không có giấy tờ hãy nhập %(number)s."),
                            number=NO_ID_NUMBER)
    return ParsedId(wanted, n)


def _cccd_format() -> IdentityError:
    return IdentityError("id.cccd_format", N_("Số CCCD phải gồm đúng 12 chữ số."))


def decode_cccd(number: str) -> CccdInfo:
    """Read province, birth year and sex from a 12-digit CCCD number."""
    n = _compact(number)
    if not (n.isascii() and n.isdigit() and len(n) == 12):
        raise _cccd_format()
    province = PROVINCE_CODES.get(n[:3])
    if province is None:
        raise IdentityError(
            "cccd.province",
            N_("Ba chữ số đầu của số CCCD (%(digits)s) không phải mã tỉnh, thành phố nào. "
               "Hãy kiểm tra lại số CCCD."), digits=n[:3])
    digit = int(n[3])
    if digit > 5:
        raise IdentityError(
            "cccd.century_digit",
            N_("Chữ số thứ 4 của số CCCD (%(digit)d) không hợp lệ. Hãy kiểm tra lại số CCCD."),
            digit=digit)
    year = 1900 + 100 * (digit // 2) + int(n[4:6])
    return CccdInfo(n[:3], province, year, Sex.FEMALE if digit % 2 else Sex.MALE)


# The declared sex → its mismatch with the card's, which is then the other one.
_SEX_MISMATCH = {
    Sex.MALE: N_("Số CCCD không khớp với giới tính Nam (chữ số thứ 4 là %(digit)s, dành cho "
                 "Nữ)."),
    Sex.FEMALE: N_("Số CCCD không khớp với giới tính Nữ (chữ số thứ 4 là %(digit)s, dành cho "
                   "Nam)."),
}


def check_cccd(number: str, birth_year: int, sex: Sex | str) -> CccdInfo:
    """Check a CCCD number against the declared birth year and sex; return what it encodes."""
    info = decode_cccd(number)
    n = _compact(number)
    want_sex = Sex.parse(sex)
    first = 1900 + 100 * (int(n[3]) // 2)
    if not first <= birth_year <= first + 99:
        raise IdentityError(
            "cccd.birth_year_mismatch",
            N_("Số CCCD không khớp với năm sinh %(year)d (chữ số thứ 4 là %(digit)s, dành cho "
               "người sinh từ %(first)d đến %(last)d)."),
            year=birth_year, digit=n[3], first=first, last=first + 99)
    if info.birth_year != birth_year:
        raise IdentityError(
            "cccd.birth_year_mismatch",
            N_("Số CCCD không khớp với năm sinh %(year)d (chữ số thứ 5–6 là %(digits)s)."),
            year=birth_year, digits=n[4:6])
    if info.sex is not want_sex:
        raise IdentityError("cccd.sex_mismatch", _SEX_MISMATCH[want_sex], digit=n[3])
    return info


# CCCD cards are issued from the age of 14 (Luật Căn cước công dân 2014, Điều 19), so only a
# younger child may declare "no ID document".
ID_CARD_AGE = 14


def check_no_id_age(birth_year: int, today: date | None = None) -> None:
    """Refuse "no ID document" (``000000000``) for a person of 14 or more. Only the birth year
    is known: a person born in year Y may still be 13 through year Y + 14, so "no ID" is
    refused from year Y + 15 on, when they are 14 whatever their birthday."""
    current = (today or clock.today()).year
    if current - birth_year > ID_CARD_AGE:
        raise IdentityError(
            "id.none_too_old",
            N_("Chỉ trẻ em dưới 14 tuổi mới khai “Chưa có giấy tờ” (000000000). Người sinh năm "
               "%(year)d đã đủ 14 tuổi: hãy chọn CCCD, CMND hoặc hộ chiếu và nhập số giấy tờ."),
            year=birth_year)


def validate_birth_year(year: int | str, today: date | None = None) -> int:
    """A birth year between 1900 and the current year."""
    current = (today or clock.today()).year
    text = str(year).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4):
        raise IdentityError("birth_year.invalid", N_("Năm sinh phải là 4 chữ số, ví dụ 1990."))
    value = int(text)
    if not 1900 <= value <= current:
        raise IdentityError("birth_year.range", N_("Năm sinh phải từ 1900 đến %(year)d."),
                            year=current)
    return value


_BHYT_FULL = re.compile(r"([A-Z]{2})([0-9])([0-9]{2})([0-9]{10})")


def parse_bhyt(raw: str | None) -> Bhyt:
    """Parse a BHYT number: 15 characters (group, level, province, BHXH number) or 10 digits."""
    n = _compact(raw)
    if not n:
        raise IdentityError("bhyt.required", N_("Hãy nhập số thẻ BHYT."))
    if n.isascii() and n.isdigit() and len(n) == 10:
        return Bhyt(None, n)
    m = _BHYT_FULL.fullmatch(n) if n.isascii() else None
    if m is None:
        raise IdentityError(
            "bhyt.format",
            N_("Số thẻ BHYT gồm 15 ký tự (ví dụ: DN4791234567890) hoặc 10 chữ số mã số BHXH."))
    group, level, province, ssn = m.groups()
    if group not in BHYT_GROUPS:
        raise IdentityError(
            "bhyt.group",
            N_("Hai chữ cái đầu của thẻ BHYT (%(group)s) không phải mã đối tượng nào. "
               "Hãy kiểm tra lại."), group=group)
    if not 1 <= int(level) <= 5:
        raise IdentityError(
            "bhyt.benefit_level",
            N_("Ký tự thứ 3 của thẻ BHYT là mức hưởng, phải từ 1 đến 5 (đang là %(level)s)."),
            level=level)
    if province == "00":
        raise IdentityError("bhyt.province",
                            N_("Ký tự thứ 4–5 của thẻ BHYT (mã tỉnh) không thể là 00."))
    return Bhyt(n, ssn, group, int(level), province)


def looks_like_chip_cccd(text: str | None) -> bool:
    """Cheap test: does this look like the QR text of a chip-based CCCD card?"""
    parts = (text or "").strip().split("|")
    return len(parts) >= 6 and re.fullmatch(r"\s*[0-9]{12}\s*", parts[0]) is not None


def _chip_date(value: str, code: str, msgid: str) -> date:
    try:
        if not re.fullmatch(r"[0-9]{8}", value):
            raise ValueError(value)
        return date(int(value[4:]), int(value[2:4]), int(value[:2]))
    except ValueError:
        raise IdentityError(code, msgid) from None


def _chip_sex(label: str) -> Sex:
    """The card's "Nam"/"Nữ". A reader that drops every non-ASCII letter turns "Nữ" into "N":
    say so, rather than "misread" (scanning again with the same reader gives the same)."""
    try:
        return Sex.parse(label)
    except IdentityError:
        pass
    if fold_diacritics(label).strip().lower() == "n":
        raise IdentityError(
            "chip.sex_accents",
            N_("Giới tính trong mã QR CCCD đọc được là “%(value)s”: máy đọc đã làm mất chữ có "
               "dấu (“Nữ” thành “N”). Hãy đặt máy đọc sang UTF-8, hoặc nhập số CCCD."),
            value=label)
    raise IdentityError(
        "chip.sex",
        N_("Giới tính trong mã QR CCCD là “%(value)s”, không phải Nam hay Nữ. Hãy kiểm tra thẻ, "
           "hoặc nhập số CCCD."), value=label[:20])


# The card's sex → its contradiction with digit 4 of its own CCCD number.
_CHIP_SEX_MISMATCH = {
    Sex.MALE: N_("Mã QR trên thẻ CCCD tự mâu thuẫn: giới tính ghi Nam, nhưng chữ số thứ 4 của "
                 "số CCCD (%(digit)s) dành cho Nữ. Hãy kiểm tra thẻ."),
    Sex.FEMALE: N_("Mã QR trên thẻ CCCD tự mâu thuẫn: giới tính ghi Nữ, nhưng chữ số thứ 4 của "
                   "số CCCD (%(digit)s) dành cho Nam. Hãy kiểm tra thẻ."),
}


def _check_chip_digits(cccd: str, birth_date: date, sex: Sex) -> None:
    """A card's birth date and sex against what its own CCCD number encodes: a contradiction
    names the field, so the officer checks the card instead of scanning it again."""
    info = decode_cccd(cccd)
    if info.birth_year != birth_date.year:
        raise IdentityError(
            "chip.birth_mismatch",
            N_("Mã QR trên thẻ CCCD tự mâu thuẫn: ngày sinh ghi %(birth)s, nhưng số CCCD (chữ "
               "số thứ 4–6: %(digits)s) là của người sinh năm %(year)d. Hãy kiểm tra thẻ."),
            birth=birth_date.strftime("%d/%m/%Y"), digits=cccd[3:6], year=info.birth_year)
    if info.sex is not sex:
        raise IdentityError("chip.sex_mismatch", _CHIP_SEX_MISMATCH[sex], digit=cccd[3])


def parse_chip_cccd(text: str | None) -> ChipCard:
    """Parse ``CCCD|old CMND|name|ddmmyyyy|Nam/Nữ|address|ddmmyyyy`` from a chip card's QR."""
    parts = [p.strip() for p in unicodedata.normalize("NFC", text or "").strip().split("|")]
    if len(parts) < 7:
        raise IdentityError("chip.format",
                            N_("Đây không phải mã QR trên thẻ CCCD gắn chip. Hãy quét lại."))
    cccd, old_id, name, birth, sex_label, address, issued = parts[:7]
    if not (cccd.isascii() and cccd.isdigit() and len(cccd) == 12):
        raise IdentityError("chip.cccd", N_("Số CCCD trong mã QR không hợp lệ. Hãy quét lại."))
    if old_id and not (old_id.isascii() and old_id.isdigit() and len(old_id) in (9, 12)):
        raise IdentityError("chip.old_id",
                            N_("Số CMND cũ trong mã QR không hợp lệ. Hãy quét lại."))
    birth_date = _chip_date(birth, "chip.birth_date",
                            N_("Ngày sinh trong mã QR CCCD không hợp lệ. Hãy quét lại."))
    issue_date = _chip_date(issued, "chip.issue_date",
                            N_("Ngày cấp trong mã QR CCCD không hợp lệ. Hãy quét lại."))
    sex = _chip_sex(sex_label)
    if issue_date < birth_date:
        raise IdentityError("chip.issue_date",
                            N_("Ngày cấp trong mã QR CCCD sớm hơn ngày sinh. Hãy quét lại."))
    _check_chip_digits(cccd, birth_date, sex)
    full_name = normalize_full_name(name)
    return ChipCard(cccd, old_id or None, full_name, birth_date, sex, " ".join(address.split()),
                    issue_date)


def mask_id(number: str | None) -> str:
    """Mask an ID number for display: "046090001234" → "046******234"."""
    n = _compact(number)
    if not n or n == NO_ID_NUMBER:
        return "(không có)"
    keep = max(1, len(n) // 4)
    if len(n) <= 2 * keep:
        return "*" * len(n)
    return n[:keep] + "*" * (len(n) - 2 * keep) + n[-keep:]


_NAME_PUNCT = {" ", "'", "-", "."}


def normalize_full_name(raw: str | None) -> str:
    """NFC, collapse whitespace, 2–100 characters of letters, spaces, ' - and ."""
    name = " ".join(unicodedata.normalize("NFC", raw or "").split()).replace("’", "'")
    if not name:
        raise IdentityError("name.required", N_("Hãy nhập họ và tên."))
    if not 2 <= len(name) <= 100:
        raise IdentityError("name.length", N_("Họ và tên phải dài từ 2 đến 100 ký tự."))
    ok = all(c in _NAME_PUNCT or unicodedata.category(c)[0] in "LM" for c in name)
    if not ok or not any(c.isalpha() for c in name):
        raise IdentityError(
            "name.characters",
            N_("Họ và tên chỉ gồm chữ cái, dấu cách, dấu nháy ('), gạch nối (-) và dấu chấm."))
    return name

