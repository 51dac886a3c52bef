"""Build the held-out relevance set for Vietnamese full-text search (issue #22).

Writes ``articles.jsonl`` and ``queries.json`` next to this file. The articles are
synthetic Vietnamese news in the style of Báo Lào Cai; a few dozen are *planted*: written
by hand to contain a place name, an accent twin or a confuser (the syllables apart, in
the other order, across punctuation). The rest are *filler* built from neutral sentence
pools that contain none of the queried names, so every query's relevant set stays small.

The search code is deliberately not consulted. ``relevant`` lists are computed by the
reference matcher below, written only from the query-syntax contract of issue #22, and
then checked against what each planted article was written to prove (``expect_in`` /
``expect_out``): if the matcher and the author's intent disagree, the build fails.

Run: ``python tests/warehouse/relevance/make_set.py`` (deterministic: fixed seed).
"""

from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 22
HERE = Path(__file__).resolve().parent
VN = timezone(timedelta(hours=7))

# Variant groups assumed to be listed in the site file (see relevance_format.md).
VARIANT_GROUPS: list[list[str]] = [["Sa Pa", "Sapa"], ["Fansipan", "Phan Xi Păng"]]

# ---------------------------------------------------------------------------------------
# Reference matcher (the contract, independently)
# ---------------------------------------------------------------------------------------

TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
WORD_RE = re.compile(r"[^\W_]+")
# Anything that is neither a letter/digit nor whitespace breaks a phrase.
BREAK_RE = re.compile(r"[^\w\s]|_")


def fold(token: str) -> str:
    """Lower-case, drop every diacritic, map đ to d."""
    decomposed = unicodedata.normalize("NFD", token.lower()).replace("đ", "d")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def exact_key(token: str) -> str:
    """Lower-case, keep every mark, but make the tone mark's position irrelevant.

    ``hoà`` and ``hòa`` both become ``hoa|\\u0300``; ``hóa`` becomes ``hoa|\\u0301``.
    """
    decomposed = unicodedata.normalize("NFD", token.lower())
    tones = "".join(c for c in decomposed if c in TONE_MARKS)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))
    return f"{base}|{tones}"


Segment = tuple[tuple[str, ...], tuple[str, ...]]  # (folded tokens, exact keys)


def segments(text: str) -> list[Segment]:
    out: list[Segment] = []
    for part in BREAK_RE.split(unicodedata.normalize("NFC", text)):
        toks = WORD_RE.findall(part)
        if toks:
            out.append((tuple(fold(t) for t in toks), tuple(exact_key(t) for t in toks)))
    return out


def contains_seq(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class Doc:
    article_id: int
    segs: tuple[Segment, ...]  # title, sapo and body segments; a phrase never spans two

    @property
    def folded_tokens(self) -> frozenset[str]:
        return frozenset(t for seg in self.segs for t in seg[0])


def doc_of(art: dict[str, object]) -> Doc:
    segs: list[Segment] = []
    for f in ("title", "sapo", "body"):
        segs.extend(segments(str(art[f])))
    return Doc(int(str(art["article_id"])), tuple(segs))


def phrase_tokens(raw: str) -> tuple[str, ...]:
    return tuple(WORD_RE.findall(unicodedata.normalize("NFC", raw)))


def has_phrase(doc: Doc, words: tuple[str, ...], exact: bool) -> bool:
    idx = 1 if exact else 0
    key = tuple(exact_key(w) if exact else fold(w) for w in words)
    return any(contains_seq(seg[idx], key) for seg in doc.segs)


VARIANTS_FOLDED = [[tuple(fold(w) for w in phrase_tokens(m)) for m in g] for g in VARIANT_GROUPS]


def alternatives(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """The phrase plus its variant-group siblings (compared folded)."""
    folded = tuple(fold(w) for w in words)
    for group in VARIANTS_FOLDED:
        if folded in group:
            return group
    return [words]


def in_variant_group(words: tuple[str, ...]) -> bool:
    return len(alternatives(words)) > 1


@dataclass
class Parsed:
    groups: list[list[tuple[str, ...]]]  # OR of AND-groups of phrases
    excludes: list[tuple[str, ...]]


def parse(query: str) -> Parsed:
    q = unicodedata.normalize("NFC", query)
    groups: list[list[tuple[str, ...]]] = [[]]
    excludes: list[tuple[str, ...]] = []
    run: list[str] = []

    def close_run() -> None:
        if run:
            groups[-1].append(phrase_tokens(" ".join(run)))
            run.clear()

    for m in re.finditer(r'-?"[^"]*"|\S+', q):
        tok = m.group(0)
        if tok == "OR":
            close_run()
            groups.append([])
        elif tok.startswith("-") and len(tok) > 1:
            close_run()
            excludes.append(phrase_tokens(tok[1:].strip('"')))
        elif tok.startswith('"'):
            close_run()
            groups[-1].append(phrase_tokens(tok.strip('"')))
        else:
            run.append(tok)
    close_run()
    return Parsed([g for g in groups if g], excludes)


def phrase_match(doc: Doc, words: tuple[str, ...], exact: bool) -> bool:
    if exact:
        return has_phrase(doc, words, exact=True)
    return any(has_phrase(doc, alt, exact=False) for alt in alternatives(words))


def matches(doc: Doc, query: str, mode: str) -> bool:
    p = parse(query)
    if mode == "words":
        ok = any(all(fold(w) in doc.folded_tokens for ph in g for w in ph) for g in p.groups)
    else:
        exact = mode == "exact"
        ok = any(all(phrase_match(doc, ph, exact) for ph in g) for g in p.groups)
    if not ok:
        return False
    exact_ex = mode == "exact"
    return not any(phrase_match(doc, ex, exact_ex) for ex in p.excludes)


def loosely_matches(doc: Doc, query: str) -> bool:
    """All syllables of some AND-group present anywhere, folded: the confuser pool."""
    p = parse(query)
    return any(all(fold(w) in doc.folded_tokens for ph in g for w in ph) for g in p.groups)


def has_diacritics(query: str) -> bool:
    q = unicodedata.normalize("NFC", query).lower()
    return fold(q) != q


# A second, independent matcher (regex over normalised text with word boundaries) used
# only to cross-check the token matcher above: both must agree on every query.
TONE_DIGIT = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}


def canon_word(word: str, exact: bool) -> str:
    if not exact:
        return fold(word)
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = "".join(TONE_DIGIT[c] for c in decomposed if c in TONE_DIGIT)
    base = "".join(c for c in decomposed if c not in TONE_DIGIT)
    return unicodedata.normalize("NFC", base) + tones


def canon_text(art: dict[str, object], exact: bool) -> str:
    # Fields are joined by a full stop so no phrase can run from one field into the next.
    text = " . ".join(unicodedata.normalize("NFC", str(art[f])) for f in ("title", "sapo", "body"))
    return WORD_RE.sub(lambda m: canon_word(m.group(0), exact), text)


def regex_phrase(text: str, words: tuple[str, ...], exact: bool) -> bool:
    alts = [words] if exact else alternatives(words)
    for alt in alts:
        body = r"\s+".join(re.escape(canon_word(w, exact)) for w in alt)
        if re.search(rf"(?<![^\W_]){body}(?![^\W_])", text):
            return True
    return False


def regex_matches(art: dict[str, object], query: str, mode: str) -> bool:
    p = parse(query)
    exact = mode == "exact"
    text = canon_text(art, exact)
    if mode == "words":
        words_of = set(WORD_RE.findall(text))
        ok = any(all(canon_word(w, False) in words_of for ph in g for w in ph) for g in p.groups)
    else:
        ok = any(all(regex_phrase(text, ph, exact) for ph in g) for g in p.groups)
    return ok and not any(regex_phrase(text, ex, exact) for ex in p.excludes)


# ---------------------------------------------------------------------------------------
# Planted articles: (key, category, title, sapo, body sentences)
# ---------------------------------------------------------------------------------------

PLANTED: list[tuple[str, str, str, str, list[str]]] = [
    # --- Lào Cai and its confusers ---
    (
        "LC1",
        "Du lịch",
        "Lào Cai đón hơn 3 triệu lượt khách trong sáu tháng",
        "Lượng khách đến tỉnh Lào Cai tăng mạnh nhờ nhiều sự kiện văn hóa, thể thao hấp dẫn.",
        [
            "Theo Sở Văn hóa, Thể thao và Du lịch, doanh thu từ khách lưu trú đạt gần 12 nghìn tỷ đồng.",
            "Nhiều cơ sở lưu trú mới được đưa vào hoạt động ở trung tâm tỉnh.",
            "Ngành du lịch đặt mục tiêu nâng chất lượng dịch vụ thay vì chạy theo số lượng.",
        ],
    ),
    (
        "LC2",
        "Kinh tế",
        "Kim ngạch qua cửa khẩu Lào Cai tăng mạnh",
        "Hoạt động xuất nhập khẩu tại cửa khẩu quốc tế Lào Cai sôi động ngay từ đầu năm.",
        [
            "Mỗi ngày có hàng trăm xe hàng qua lại tuyến biên giới.",
            "Lực lượng hải quan áp dụng thủ tục điện tử để rút ngắn thời gian thông quan.",
            "Các doanh nghiệp kiến nghị tiếp tục nâng cấp bãi kiểm hóa.",
        ],
    ),
    (
        "LC3",
        "Thời sự",
        "LÀO CAI: KHỞI CÔNG TUYẾN ĐƯỜNG NỐI CAO TỐC",
        "Dự án có tổng mức đầu tư hơn 1.400 tỷ đồng, dài khoảng 18 km.",
        [
            "Tuyến đường giúp rút ngắn thời gian di chuyển từ trung tâm tỉnh ra khu vực biên giới.",
            "Chủ đầu tư cam kết hoàn thành đúng tiến độ.",
            "Người dân trong vùng dự án đồng thuận bàn giao mặt bằng.",
        ],
    ),
    (
        "LC4",
        "Xã hội",
        "Chỉnh trang đô thị ven sông Hồng",
        "Thành phố Lào Cai đầu tư hàng trăm tỷ đồng làm kè, trồng cây xanh dọc bờ sông.",
        [
            "Tuyến đi bộ mới trở thành điểm tập thể dục buổi sáng của người dân.",
            "Nhiều hộ kinh doanh ven sông đã chuyển sang bán hàng lưu niệm.",
            "Công trình dự kiến hoàn thành trong quý IV.",
        ],
    ),
    (
        "LC5",
        "Xã hội",
        "Bảo hiểm xã hội mở rộng đối tượng tham gia tự nguyện",
        "Số người tham gia bảo hiểm xã hội tự nguyện tăng gần gấp đôi.",
        [
            "Cán bộ Bảo hiểm xã hội tỉnh Lào Cai đến từng thôn bản tuyên truyền chính sách.",
            "Người tham gia được hỗ trợ một phần tiền đóng theo quy định.",
            "Ngành phấn đấu bao phủ thêm hàng nghìn lao động tự do.",
        ],
    ),
    (
        "LC6",
        "Thời sự",
        "Bộ máy tỉnh mới chính thức đi vào hoạt động",
        "Từ ngày 1/7/2025, tỉnh Lào Cai và tỉnh Yên Bái sáp nhập thành tỉnh Lào Cai.",
        [
            "Trung tâm hành chính của tỉnh mới đặt tại phường Yên Bái.",
            "Các sở, ngành đã hoàn tất việc sắp xếp cán bộ, công chức.",
            "Người dân làm thủ tục hành chính không bị gián đoạn.",
        ],
    ),
    (
        "LC7",
        "Văn hóa",
        "Những năm tháng lao cải của người thương binh già",
        "Ông Trần Văn Thịnh kể về thời gian bị đưa đi lao cải trước khi được minh oan.",
        [
            "Căn nhà nhỏ của ông treo đầy giấy khen của con cháu.",
            "Ông bảo điều quý nhất bây giờ là được sống yên ổn bên gia đình.",
            "Mỗi dịp 27/7, ông lại cùng đồng đội đi viếng nghĩa trang liệt sĩ.",
        ],
    ),
    (
        "LC8",
        "Du lịch",
        "Ga đường sắt được cải tạo đón khách quốc tế",
        "Nhà ga cũ được sơn mới, biển tên ghi song ngữ.",
        [
            "Tấm biển tiếng Anh ghi rõ dòng chữ Lao Cai Station ở mặt tiền.",
            "Mỗi tuần có hàng chục chuyến tàu chở khách từ Hà Nội lên.",
            "Nhà ga còn bố trí khu bán đặc sản cho du khách.",
        ],
    ),
    (
        "LCX1",
        "Nông nghiệp",
        "Hợp tác xã rau sạch vào vụ thu hoạch",
        "Hơn 40 người lao động làm việc thường xuyên tại hợp tác xã.",
        [
            "Mỗi ngày, hợp tác xã xuất bán khoảng hai tấn rau cải, su hào và bắp cải.",
            "Rau được trồng theo tiêu chuẩn VietGAP, không dùng thuốc kích thích.",
            "Thu nhập của người lao động đạt khoảng 7 triệu đồng mỗi tháng.",
        ],
    ),
    (
        "LCX2",
        "Thời sự",
        "Cải cách hành chính: đo sự hài lòng của người dân",
        "Chỉ số cải cách hành chính của tỉnh tăng 5 bậc so với năm trước.",
        [
            "Tại bộ phận một cửa, tiếng người trò chuyện lao xao từ sáng sớm.",
            "Cán bộ hướng dẫn người dân nộp hồ sơ trực tuyến.",
            "Nhiều thủ tục nay được trả kết quả ngay trong ngày.",
        ],
    ),
    (
        "LCX3",
        "Thể thao",
        "Điền kinh tỉnh giành 4 huy chương tại giải trẻ",
        "Đội tuyển điền kinh trẻ của tỉnh vượt chỉ tiêu đề ra.",
        [
            "Em Giàng Thị Dua giành huy chương vàng môn ném lao. Cải thiện thành tích từng ngày là mục tiêu em theo đuổi.",
            "Huấn luyện viên cho biết các em tập luyện trong điều kiện sân bãi còn thiếu.",
            "Đội sẽ tiếp tục tham dự giải vô địch quốc gia vào tháng tới.",
        ],
    ),
    # --- Sa Pa, Sapa, SaPa and confusers ---
    (
        "SP1",
        "Du lịch",
        "Sa Pa tấp nập du khách dịp nghỉ lễ",
        "Các khách sạn, homestay ở thị xã Sa Pa gần như kín phòng.",
        [
            "Đường phố trung tâm đông đúc từ chiều ngày đầu tiên của kỳ nghỉ.",
            "Ban quản lý khu du lịch tăng cường lực lượng hướng dẫn, giữ trật tự.",
            "Giá phòng được niêm yết công khai, không có tình trạng chặt chém.",
        ],
    ),
    (
        "SP2",
        "Du lịch",
        "Phát triển du lịch cộng đồng ở các bản vùng cao",
        "Thị xã Sa Pa hỗ trợ người dân cải tạo nhà ở thành điểm lưu trú.",
        [
            "Mô hình du lịch cộng đồng ở Tả Van giúp nhiều hộ thoát nghèo.",
            "Du khách được cùng người dân nấu ăn, dệt vải, đi nương.",
            "Chính quyền hỗ trợ đào tạo ngoại ngữ cho thanh niên trong bản.",
        ],
    ),
    (
        "SP3",
        "Nông nghiệp",
        "SA PA VÀO MÙA LÚA CHÍN",
        "Những thửa ruộng bậc thang chuyển sang màu vàng óng.",
        [
            "Người dân tất bật gặt lúa, phơi thóc trên sân nhà.",
            "Năm nay lúa được mùa, năng suất cao hơn vụ trước.",
            "Nhiều hộ giữ lại giống lúa nương truyền thống.",
        ],
    ),
    (
        "SP4",
        "Kinh tế",
        "Nông sản Sapa lên sàn thương mại điện tử",
        "Các sản phẩm rau ôn đới, nấm hương được đóng gói, gắn mã truy xuất.",
        [
            "Hợp tác xã đã bán được hơn 3 tấn nấm qua mạng.",
            "Thanh niên trong bản livestream giới thiệu sản phẩm mỗi tối.",
            "Đơn hàng tăng mạnh vào dịp cuối năm.",
        ],
    ),
    (
        "SP5",
        "Thể thao",
        "Giải chạy địa hình SaPa thu hút 5.000 vận động viên",
        "Giải chạy năm nay có bốn cự ly, dài nhất 100 km.",
        [
            "Cung đường chạy qua những bản làng và rừng nguyên sinh.",
            "Ban tổ chức kỳ vọng giải chạy sẽ thúc đẩy du lịch thể thao.",
            "Lực lượng y tế được bố trí dọc đường chạy.",
        ],
    ),
    (
        "SP6",
        "Du lịch",
        "Tuyến xe buýt du lịch nối hai thị trấn vùng cao",
        "Tuyến xe buýt chạy giữa Sa Pa và Bắc Hà mỗi ngày bốn chuyến.",
        [
            "Du khách có thể tham quan chợ phiên vào sáng Chủ Nhật.",
            "Giá vé được giữ ổn định trong năm đầu.",
            "Doanh nghiệp vận tải cam kết bảo đảm an toàn cho hành khách.",
        ],
    ),
    (
        "SP7",
        "Du lịch",
        "Đỉnh Phan Xi Păng phủ tuyết trắng",
        "Sáng nay, nhiệt độ trên đỉnh núi xuống dưới 0 độ C.",
        [
            "Từ thị xã Sa Pa, nhiều du khách đi cáp treo lên ngắm băng tuyết.",
            "Ban quản lý khuyến cáo du khách mặc đủ ấm và đi giày chống trơn.",
            "Hiện tượng này thường chỉ kéo dài vài ngày.",
        ],
    ),
    (
        "SPX1",
        "Nông nghiệp",
        "Cấy lúa trên bãi bồi ven suối",
        "Bà con tranh thủ cấy lúa trên bãi bồi sau đợt nước rút.",
        [
            "Đất bãi bồi được bồi đắp thêm nhiều phù sa. Pa Cheo là một trong những bản đầu tiên xuống giống.",
            "Cán bộ khuyến nông hướng dẫn bà con bón phân cân đối.",
            "Năng suất dự kiến đạt khoảng 5 tấn mỗi ha.",
        ],
    ),
    (
        "SPX2",
        "Nông nghiệp",
        "Giữ giống lợn đen bản địa",
        "Sản lượng lợn đen từng sa sút vì rét đậm kéo dài.",
        [
            "Nhưng người dân bản Pa Kha vẫn kiên trì giữ đàn giống.",
            "Thịt lợn đen thơm, chắc, được thị trường ưa chuộng.",
            "Nhiều hộ đã có thu nhập hàng trăm triệu đồng mỗi năm.",
        ],
    ),
    (
        "F1",
        "Du lịch",
        "Hàng nghìn người chinh phục Fansipan dịp đầu năm",
        "Đỉnh núi cao nhất Đông Dương đón lượng khách kỷ lục.",
        [
            "Nhiều gia đình chọn leo núi để cầu may đầu năm.",
            "Ban quản lý bố trí thêm nhân viên cứu hộ trên tuyến đi bộ.",
            "Rác thải được thu gom theo từng chặng.",
        ],
    ),
    (
        "F2",
        "Văn hóa",
        "Chuyện người porter trên nóc nhà Đông Dương",
        "Anh Sùng A Vàng đã hơn 300 lần lên đỉnh Phan Xi Păng.",
        [
            "Mỗi chuyến, anh mang theo hơn 20 kg đồ cho đoàn khách.",
            "Anh thuộc từng lối mòn, từng con suối trên núi.",
            "Thu nhập từ nghề giúp anh nuôi hai con ăn học.",
        ],
    ),
    # --- Bắc Hà, bạc hà and confusers ---
    (
        "BH1",
        "Du lịch",
        "Chợ phiên Bắc Hà rộn ràng ngày cuối tuần",
        "Chợ phiên họp vào sáng Chủ Nhật, thu hút đông du khách.",
        [
            "Người dân các bản mang ngựa, lợn, gà ra chợ trao đổi.",
            "Du khách thích thú với những quầy thắng cố bốc khói.",
            "Chợ còn là nơi gặp gỡ của thanh niên các dân tộc.",
        ],
    ),
    (
        "BH2",
        "Nông nghiệp",
        "Mận tam hoa vào vụ thu hoạch",
        "Nông dân huyện Bắc Hà phấn khởi vì mận được mùa, được giá.",
        [
            "Giá mận tại vườn dao động từ 25 đến 35 nghìn đồng mỗi kg.",
            "Thương lái về tận vườn thu mua.",
            "Nhiều hộ áp dụng kỹ thuật ghép cành để trẻ hóa vườn.",
        ],
    ),
    (
        "BH3",
        "Nông nghiệp",
        "Mở rộng vùng chè Shan tuyết",
        "Bắc Hà trồng mới hơn 50 ha chè Shan tuyết dưới tán rừng.",
        [
            "Người dân được hỗ trợ cây giống và phân bón.",
            "Sản phẩm chè được một doanh nghiệp bao tiêu.",
            "Cây chè giúp giữ đất, chống xói mòn trên đồi dốc.",
        ],
    ),
    (
        "BH4",
        "Thời sự",
        "Sắp xếp đơn vị hành chính cấp xã",
        "Các xã thuộc huyện BẮC HÀ cũ được sắp xếp thành 5 xã mới.",
        [
            "Trụ sở làm việc được bố trí thuận tiện cho người dân.",
            "Cán bộ được điều động theo vị trí việc làm.",
            "Người dân không phải đổi giấy tờ trong thời gian đầu.",
        ],
    ),
    (
        "BHX1",
        "Nông nghiệp",
        "Trồng bạc hà lấy tinh dầu",
        "Mô hình trồng bạc hà trên đất dốc cho thu nhập gấp ba trồng ngô.",
        [
            "Lá bạc hà được cất lấy tinh dầu ngay tại xưởng của hợp tác xã.",
            "Sản phẩm được bán cho các công ty dược phẩm.",
            "Người dân được hướng dẫn kỹ thuật chăm sóc và thu hái.",
        ],
    ),
    (
        "BHX2",
        "Văn hóa",
        "Người giữ lửa văn nghệ ở bản Mông",
        "Ông Lê Văn Hùng từng công tác ở tỉnh Hà Bắc cũ trước khi lên vùng cao.",
        [
            "Ông dành dụm tiền mua nhạc cụ cho đội văn nghệ.",
            "Đội đã nhiều lần đạt giải tại liên hoan cấp tỉnh.",
            "Ông mong lớp trẻ tiếp tục gìn giữ những làn điệu cổ.",
        ],
    ),
    (
        "BHX3",
        "Xã hội",
        "Rét đậm, rét hại bao trùm vùng cao",
        "Không khí lạnh tràn xuống từ phía bắc. Hà Khẩu bên kia sông cũng ghi nhận băng giá.",
        [
            "Chính quyền yêu cầu người dân che chắn chuồng trại cho gia súc.",
            "Trường học cho học sinh nghỉ khi nhiệt độ xuống dưới 7 độ C.",
            "Ngành y tế khuyến cáo người cao tuổi giữ ấm.",
        ],
    ),
    # --- Bát Xát ---
    (
        "BX1",
        "Nông nghiệp",
        "Bát Xát phát triển thảo quả dưới tán rừng",
        "Diện tích thảo quả của huyện đạt hơn 2.000 ha.",
        [
            "Thảo quả là cây trồng chủ lực của các xã vùng cao.",
            "Người dân được hướng dẫn sấy thảo quả bằng lò cải tiến.",
            "Việc trồng dưới tán còn giúp bảo vệ rừng đầu nguồn.",
        ],
    ),
    (
        "BX2",
        "Giáo dục",
        "Chăm lo bữa ăn cho học sinh bán trú",
        "Huyện Bát Xát có hơn 6.000 học sinh bán trú.",
        [
            "Các trường tăng gia trồng rau, nuôi gà để cải thiện bữa ăn.",
            "Phụ huynh góp gạo, củi theo khả năng.",
            "Nhà trường bố trí giáo viên trông các em buổi tối.",
        ],
    ),
    (
        "BX3",
        "Du lịch",
        "Y Tý mùa săn mây",
        "Xã biên giới của Bát Xát đón nhiều nhiếp ảnh gia.",
        [
            "Biển mây phủ kín thung lũng vào sáng sớm.",
            "Nhà trình tường của người Hà Nhì trở thành điểm lưu trú.",
            "Đường lên xã đã được mở rộng.",
        ],
    ),
    (
        "BXX1",
        "Nông nghiệp",
        "Cánh đồng lúa lai cho năng suất cao",
        "Cánh đồng lúa bát ngát sau vụ gieo cấy sớm.",
        [
            "Hợp tác xã đầu tư máy xay xát gạo phục vụ bà con.",
            "Gạo được đóng túi, bán cho các bếp ăn tập thể.",
            "Nông dân mong giá lúa giữ ổn định.",
        ],
    ),
    (
        "BXX2",
        "Văn hóa",
        "Thịt treo gác bếp, món quà của núi rừng",
        "Người dân xát muối, tẩm mắc khén vào thịt rồi treo gác bếp.",
        [
            "Mỗi bữa chỉ cần một bát cơm nóng và vài lát thịt.",
            "Món ăn nay được bán làm quà cho du khách.",
            "Nhiều hộ đã đăng ký nhãn hiệu cho sản phẩm.",
        ],
    ),
    (
        "BXX3",
        "Nông nghiệp",
        "Thảo quả được giá, người dân phấn khởi",
        "Giá thảo quả khô tăng lên hơn 300 nghìn đồng mỗi kg.",
        [
            "Người dân Trạm Tấu thu hoạch thảo quả từ sáng sớm.",
            "Thương lái lên tận bản thu mua.",
            "Chính quyền khuyến cáo không phá rừng để mở rộng diện tích.",
        ],
    ),
    # --- Mường Khương ---
    (
        "MK1",
        "Nông nghiệp",
        "Vùng chuối xuất khẩu Mường Khương",
        "Cây chuối đang mang lại nguồn thu lớn cho nông dân Mường Khương.",
        [
            "Chuối được thu mua để xuất khẩu sang thị trường phía bắc.",
            "Doanh nghiệp liên kết cung ứng giống cấy mô.",
            "Nhiều hộ có thu nhập trên 200 triệu đồng mỗi năm.",
        ],
    ),
    (
        "MK2",
        "Kinh tế",
        "Nâng cấp cửa khẩu Mường Khương",
        "Cửa khẩu Mường Khương được đầu tư thêm bãi đỗ xe và nhà kiểm tra hàng hóa.",
        [
            "Lượng hàng nông sản qua cửa khẩu tăng đều.",
            "Các thủ tục được thực hiện trên nền tảng số.",
            "Lực lượng biên phòng phối hợp bảo đảm an ninh.",
        ],
    ),
    (
        "MK3",
        "Văn hóa",
        "Tương ớt, đặc sản của vùng cao",
        "Tương ớt Mường Khương được làm từ ớt, tỏi và gừng theo công thức riêng.",
        [
            "Mỗi năm, các hộ sản xuất bán ra hàng chục nghìn chai tương.",
            "Sản phẩm đã đạt chứng nhận OCOP 3 sao.",
            "Bà con đang mở rộng vùng trồng ớt nguyên liệu.",
        ],
    ),
    (
        "MKX1",
        "Văn hóa",
        "Hành trình tìm về cội nguồn",
        "Anh Lù Văn Khương vừa có chuyến đi thăm đồng bào Mường ở Phú Thọ.",
        [
            "Anh ghi chép lại nhiều làn điệu dân ca.",
            "Những tư liệu này sẽ được lưu giữ tại nhà văn hóa thôn.",
            "Anh mong có thêm kinh phí để in sách.",
        ],
    ),
    # --- Yên Bái ---
    (
        "YB1",
        "Kinh tế",
        "Quế Văn Yên vươn ra thế giới",
        "Vùng quế huyện Văn Yên, tỉnh Yên Bái cũ, có hơn 50.000 ha.",
        [
            "Tinh dầu quế và quế thanh được xuất khẩu sang châu Âu.",
            "Nhiều doanh nghiệp đầu tư nhà máy chế biến sâu.",
            "Người trồng quế được hướng dẫn canh tác theo tiêu chuẩn hữu cơ.",
        ],
    ),
    (
        "YB2",
        "Thời sự",
        "Phường Yên Bái sau ngày hợp nhất",
        "Phường được thành lập trên cơ sở sáp nhập nhiều phường của thành phố cũ.",
        [
            "Trụ sở phường mới được sửa chữa khang trang.",
            "Người dân đánh giá cao tinh thần phục vụ của cán bộ.",
            "Phường đặt mục tiêu hoàn thành chuyển đổi số trong năm 2025.",
        ],
    ),
    (
        "YB3",
        "Du lịch",
        "YÊN BÁI có thêm nhiều điểm du lịch mới",
        "Các điểm du lịch hồ Thác Bà, đèo Khau Phạ thu hút khách.",
        [
            "Nhiều tour mới kết nối các điểm du lịch trong tỉnh.",
            "Ngành du lịch tập trung quảng bá trên mạng xã hội.",
            "Dịch vụ lưu trú được nâng cấp.",
        ],
    ),
    (
        "YBX1",
        "Văn hóa",
        "Lễ hội đền Mẫu đầu xuân",
        "Trong đền, người dân làm lễ bái yên lặng trước bàn thờ.",
        [
            "Ban tổ chức bố trí lối đi riêng cho người cao tuổi.",
            "Lễ hội không còn cảnh chen lấn như trước.",
            "Các hoạt động văn hóa dân gian được tổ chức bên ngoài sân đền.",
        ],
    ),
    (
        "YBX2",
        "Giáo dục",
        "Rút kinh nghiệm sau kỳ thi học sinh giỏi",
        "Đội tuyển huyện Bảo Yên đạt 12 giải trong kỳ thi năm nay.",
        [
            "Thầy cô giáo rút ra nhiều bài học kinh nghiệm trong ôn luyện.",
            "Nhà trường sẽ phát hiện học sinh năng khiếu từ lớp dưới.",
            "Phụ huynh đồng hành cùng nhà trường.",
        ],
    ),
    (
        "YBX3",
        "Thời sự",
        "Sáp nhập xã: bảo đảm quyền lợi người dân",
        "Việc sáp nhập xã được thực hiện công khai, lấy ý kiến cử tri.",
        [
            "Cán bộ dôi dư được bố trí công việc phù hợp.",
            "Trụ sở cũ được chuyển thành nhà văn hóa.",
            "Người dân đồng thuận với phương án mới.",
        ],
    ),
    (
        "YBX4",
        "Thời sự",
        "Thành phố Yên Bái trước ngày sát nhập tỉnh",
        "Nhiều người dân viết nhầm thành sát nhập trên mạng xã hội.",
        [
            "Thành phố khẩn trương bàn giao hồ sơ, tài sản.",
            "Cán bộ được quán triệt giữ nguyên tinh thần trách nhiệm.",
            "Các dịch vụ công vẫn hoạt động bình thường.",
        ],
    ),
    # --- Mù Cang Chải, Nghĩa Lộ ---
    (
        "MC1",
        "Du lịch",
        "Ruộng bậc thang Mù Cang Chải mùa nước đổ",
        "Những thửa ruộng lấp lánh như gương khi được đổ nước.",
        [
            "Du khách nườm nượp đến chụp ảnh.",
            "Người dân dắt trâu ra đồng làm đất.",
            "Đây là thời điểm đẹp nhất để săn ảnh.",
        ],
    ),
    (
        "MC2",
        "Thời sự",
        "Nâng cấp quốc lộ 32",
        "Tuyến đường từ Nghĩa Lộ đi Mù Cang Chải được mở rộng, giảm cua gấp.",
        [
            "Công trình giúp giảm tai nạn trên đèo.",
            "Nhà thầu thi công cả ngày lẫn đêm.",
            "Dự kiến thông xe vào cuối năm.",
        ],
    ),
    (
        "MC3",
        "Du lịch",
        "Dù lượn trên đèo Khau Phạ",
        "Lễ hội bay dù lượn ở Mù Căng Chải thu hút phi công quốc tế.",
        [
            "Các phi công bay qua thung lũng lúa chín.",
            "Ban tổ chức bảo đảm an toàn bay.",
            "Du khách có thể bay đôi cùng phi công.",
        ],
    ),
    (
        "MCX1",
        "Văn hóa",
        "Chàng trai Mông làm đẹp cho bản",
        "Anh Sùng A Cang dậy sớm dọn đường khi sương mù còn dày đặc.",
        [
            "Anh chải lại từng lối đi bằng chổi tre.",
            "Nhờ anh, bản luôn sạch sẽ.",
            "Chính quyền đã tặng giấy khen cho anh.",
        ],
    ),
    (
        "NL1",
        "Văn hóa",
        "Lễ hội Mường Lò tại thị xã Nghĩa Lộ",
        "Lễ hội tái hiện nghi lễ truyền thống của người Thái.",
        [
            "Hàng nghìn người tham gia xòe.",
            "Các món ăn truyền thống được giới thiệu.",
            "Lễ hội góp phần quảng bá văn hóa Thái.",
        ],
    ),
    (
        "NL2",
        "Xã hội",
        "Hiệu quả của mô hình tổ tự quản",
        "Sau một năm, ý nghĩa lộ rõ qua từng con số.",
        [
            "Số vụ trộm cắp giảm mạnh.",
            "Người dân chủ động tham gia tuần tra.",
            "Mô hình sẽ được nhân rộng.",
        ],
    ),
    (
        "NLX1",
        "Thời sự",
        "Chuyển đổi số cấp xã",
        "Chương trình mang nhiều ý nghĩa. Lộ trình thực hiện chia thành ba giai đoạn.",
        [
            "Cán bộ được tập huấn kỹ năng số.",
            "Người dân được hướng dẫn cài đặt ứng dụng.",
            "Các thủ tục thiết yếu được số hóa trước.",
        ],
    ),
    # --- Văn Bàn, văn bản ---
    (
        "VB1",
        "Kinh tế",
        "Văn Bàn thu hoạch quế vụ xuân",
        "Huyện Văn Bàn có hơn 10.000 ha quế.",
        [
            "Giá vỏ quế khô ở mức khá.",
            "Người dân bóc vỏ quế từ sáng sớm.",
            "Nhiều hộ có thu nhập cao từ cây quế.",
        ],
    ),
    (
        "VB2",
        "Xã hội",
        "MƯA LŨ LÀM SẠT LỞ NHIỀU TUYẾN ĐƯỜNG",
        "Mưa lũ gây thiệt hại nặng tại huyện Văn Bàn.",
        [
            "Hàng chục hộ dân phải di dời khẩn cấp.",
            "Lực lượng chức năng thông tuyến trong đêm.",
            "Chính quyền hỗ trợ lương thực cho người dân.",
        ],
    ),
    (
        "VBX1",
        "Thời sự",
        "Hướng dẫn mới về thủ tục đất đai",
        "Sở ban hành văn bản hướng dẫn cấp giấy chứng nhận quyền sử dụng đất.",
        [
            "Người dân có thể nộp hồ sơ trực tuyến.",
            "Thời gian giải quyết rút ngắn còn 10 ngày.",
            "Cán bộ tiếp nhận không được yêu cầu thêm giấy tờ.",
        ],
    ),
    (
        "VBX2",
        "Thời sự",
        "Rà soát văn bản quy phạm pháp luật",
        "Tỉnh rà soát hơn 300 văn bản đã ban hành.",
        [
            "Các văn bản chồng chéo sẽ được sửa đổi.",
            "Việc rà soát hoàn thành trong quý III.",
            "Kết quả được công bố công khai.",
        ],
    ),
    (
        "VBX3",
        "Văn hóa",
        "Hội thi văn nghệ quần chúng",
        "Các đại biểu đã bàn bạc kỹ kế hoạch tổ chức hội thi văn nghệ.",
        [
            "Hơn 20 đội tham gia hội thi.",
            "Nhiều tiết mục dân gian được phục dựng.",
            "Ban tổ chức trao 10 giải thưởng.",
        ],
    ),
    # --- Bảo Thắng ---
    (
        "BT1",
        "Kinh tế",
        "Khu công nghiệp Tằng Loỏng thu hút đầu tư",
        "Khu công nghiệp tại huyện Bảo Thắng có thêm 3 dự án mới.",
        [
            "Các dự án tạo việc làm cho hơn 1.000 lao động.",
            "Hạ tầng khu công nghiệp được hoàn thiện.",
            "Doanh nghiệp cam kết bảo vệ môi trường.",
        ],
    ),
    (
        "BT2",
        "Nông nghiệp",
        "Bảo Thắng mở rộng vùng dứa",
        "Nông dân trồng dứa trên đất đồi.",
        [
            "Dứa được bán cho nhà máy chế biến nước quả.",
            "Thu nhập mỗi ha đạt hơn 100 triệu đồng.",
            "Huyện hỗ trợ giống mới.",
        ],
    ),
    (
        "BT3",
        "Thể thao",
        "Đội bóng đá tỉnh quyết tâm đảm bảo thắng lợi",
        "Ban huấn luyện yêu cầu các cầu thủ đảm bảo thắng lợi ở trận cuối.",
        [
            "Đội hiện đứng thứ hai bảng xếp hạng.",
            "Khán giả kỳ vọng đội lên hạng.",
            "Trận đấu diễn ra vào chiều Chủ Nhật.",
        ],
    ),
    (
        "BTX1",
        "Thể thao",
        "Chiến thắng thuyết phục của đội bóng chuyền",
        "Đội giành chiến thắng, quyết tâm bảo vệ ngôi vô địch.",
        [
            "Các cầu thủ thi đấu đầy quyết tâm.",
            "Huấn luyện viên khen ngợi tinh thần toàn đội.",
            "Đội sẽ tập trung cho giải khu vực.",
        ],
    ),
    # --- Kim Thành ---
    (
        "KT1",
        "Kinh tế",
        "Cửa khẩu quốc tế đường bộ số II Kim Thành thông quan xuyên trưa",
        "Nhiều xe nông sản được thông quan nhanh.",
        [
            "Doanh nghiệp đánh giá cao việc kéo dài giờ làm việc.",
            "Lực lượng chức năng phân luồng hợp lý.",
            "Thời gian chờ đợi giảm đáng kể.",
        ],
    ),
    (
        "KT2",
        "Kinh tế",
        "Thanh long xếp hàng chờ xuất khẩu",
        "Tại bãi hàng Kim Thành, hàng trăm xe thanh long đang chờ làm thủ tục.",
        [
            "Thương nhân kiến nghị tăng luồng xanh.",
            "Cơ quan chức năng khuyến cáo doanh nghiệp điều tiết hàng.",
            "Lượng xe dự kiến giảm trong tuần tới.",
        ],
    ),
    (
        "KTX1",
        "Kinh tế",
        "Xuất khẩu nông sản khởi sắc",
        "Doanh nghiệp tăng kim ngạch. Thành công này nhờ mở rộng thị trường.",
        [
            "Các mặt hàng chủ lực gồm chuối, dứa và gạo.",
            "Tỉnh hỗ trợ doanh nghiệp xúc tiến thương mại.",
            "Nhiều đơn hàng mới được ký kết.",
        ],
    ),
    (
        "KTX2",
        "Kinh tế",
        "Nâng cấp cửa khẩu phụ",
        "Cửa khẩu phụ được đầu tư đường nội bộ.",
        [
            "Hàng hóa lưu thông thuận lợi hơn.",
            "Lực lượng biên phòng tăng cường kiểm soát.",
            "Thương nhân hai bên biên giới phấn khởi.",
        ],
    ),
    # --- Điện Biên / diễn biến ---
    (
        "DB1",
        "Thời sự",
        "Kỷ niệm 70 năm Chiến thắng Điện Biên Phủ",
        "Nhiều hoạt động ý nghĩa được tổ chức trong toàn tỉnh.",
        [
            "Cựu chiến binh kể lại những ký ức hào hùng.",
            "Học sinh được nghe nói chuyện truyền thống.",
            "Các hộ gia đình treo cờ Tổ quốc.",
        ],
    ),
    (
        "DB2",
        "Xã hội",
        "Trao đổi kinh nghiệm giảm nghèo",
        "Đoàn công tác của tỉnh Điện Biên đến thăm các mô hình sinh kế.",
        [
            "Hai bên chia sẻ cách làm hiệu quả.",
            "Đoàn đánh giá cao mô hình nuôi cá nước lạnh.",
            "Hai tỉnh thống nhất tăng cường hợp tác.",
        ],
    ),
    (
        "DB3",
        "Xã hội",
        "Theo dõi sát diễn biến mưa lũ",
        "Ban chỉ huy phòng chống thiên tai yêu cầu trực ban 24/24 giờ.",
        [
            "Các xã vùng trũng sẵn sàng phương án sơ tán.",
            "Lực lượng xung kích được bố trí tại các điểm nguy hiểm.",
            "Người dân không được vớt củi trên suối.",
        ],
    ),
    (
        "DBX1",
        "Biên giới",
        "Đồn biên phòng kéo điện cho bản xa",
        "Cán bộ đồn biên phòng giúp dân kéo điện về bản.",
        [
            "Điện sáng giúp các em học sinh học bài buổi tối.",
            "Bà con đóng góp ngày công.",
            "Công trình hoàn thành sau một tháng.",
        ],
    ),
    # --- Hòa Bình and accent twins ---
    (
        "HB1",
        "Biên giới",
        "Giữ gìn hòa bình nơi biên giới",
        "Lực lượng biên phòng phối hợp với nhân dân giữ vững hòa bình, ổn định.",
        [
            "Các buổi tuần tra song phương được duy trì.",
            "Người dân hai bên biên giới giao lưu văn hóa.",
            "Tình hình an ninh được giữ vững.",
        ],
    ),
    (
        "HB2",
        "Văn hóa",
        "Triển lãm ảnh khát vọng hoà bình",
        "Hơn 100 bức ảnh thể hiện khát vọng hoà bình được trưng bày.",
        [
            "Nhiều bức ảnh ghi lại cuộc sống bình yên ở vùng cao.",
            "Triển lãm kéo dài đến cuối tháng.",
            "Khách tham quan được miễn phí vé.",
        ],
    ),
    (
        "HB3",
        "Văn hóa",
        "Giao lưu văn hóa các dân tộc",
        "Đoàn nghệ nhân tỉnh Hòa Bình biểu diễn tại nhà văn hóa trung tâm.",
        [
            "Các tiết mục cồng chiêng được khán giả yêu thích.",
            "Hai đoàn trao đổi kinh nghiệm bảo tồn.",
            "Chương trình sẽ được tổ chức hằng năm.",
        ],
    ),
    (
        "HB4",
        "Thời sự",
        "Lan tỏa thông điệp HÒA BÌNH",
        "Thanh niên tổ chức chuỗi hoạt động tình nguyện tại vùng cao.",
        [
            "Các bạn trẻ sửa đường, xây nhà.",
            "Hoạt động nhận được sự ủng hộ của người dân.",
            "Đoàn sẽ tiếp tục đến các xã khác.",
        ],
    ),
    (
        "HBX1",
        "Văn hóa",
        "Đưa văn hóa bình dân vào trường học",
        "Các trò chơi dân gian được đưa vào giờ ra chơi.",
        [
            "Học sinh thích thú với trò ném còn, đánh yến.",
            "Giáo viên được tập huấn tổ chức trò chơi.",
            "Mô hình giúp học sinh gắn bó với trường lớp.",
        ],
    ),
    (
        "HBX2",
        "Xã hội",
        "Con đường hoa của phụ nữ thôn",
        "Những bông hoa bình dị nở dọc con đường vào thôn.",
        [
            "Hội phụ nữ trồng hoa và chăm sóc mỗi tuần.",
            "Con đường trở nên sạch đẹp.",
            "Mô hình được nhiều thôn học tập.",
        ],
    ),
    (
        "HBX3",
        "Kinh tế",
        "Kho hàng cạnh ga đường sắt hoạt động hết công suất",
        "Mỗi ngày có hàng trăm tấn hàng hóa. Bình quân mỗi ca làm việc có 50 công nhân.",
        [
            "Doanh nghiệp đầu tư thêm xe nâng.",
            "Hàng hóa được sắp xếp khoa học.",
            "Kho hàng đáp ứng nhu cầu của doanh nghiệp.",
        ],
    ),
    # --- quế / quê / que ---
    (
        "Q1",
        "Kinh tế",
        "Tinh dầu quế được giá",
        "Giá tinh dầu quế tăng khoảng 10% so với năm trước.",
        [
            "Các cơ sở chưng cất hoạt động hết công suất.",
            "Người dân tận dụng lá quế để chưng cất.",
            "Sản phẩm chủ yếu xuất khẩu.",
        ],
    ),
    (
        "QX1",
        "Văn hóa",
        "Về thăm quê hương",
        "Nhiều người con xa quê trở về đón Tết.",
        [
            "Quê hương đổi thay với đường bê tông tới từng nhà.",
            "Các gia đình sum họp bên bếp lửa.",
            "Ai cũng mong năm mới bình an.",
        ],
    ),
    (
        "QX2",
        "Giáo dục",
        "Học toán bằng đồ dùng tự làm",
        "Giáo viên mầm non tự làm đồ dùng dạy học từ vật liệu tái chế.",
        [
            "Các em học đếm bằng que tính làm từ tre.",
            "Đồ dùng giúp các em hứng thú hơn.",
            "Mô hình được phòng giáo dục đánh giá cao.",
        ],
    ),
    # --- chè / chế / che, Shan tuyết ---
    (
        "C1",
        "Nông nghiệp",
        "Chè Shan tuyết Suối Giàng",
        "Những cây chè Shan tuyết cổ thụ hàng trăm năm tuổi.",
        ["Người dân hái chè từ sáng sớm.", "Chè được sao bằng tay.", "Sản phẩm có giá cao."],
    ),
    (
        "C2",
        "Nông nghiệp",
        "Đồi chè xanh mướt",
        "Đồi chè của xã được chăm sóc theo hướng hữu cơ.",
        [
            "Người dân có thu nhập ổn định.",
            "Doanh nghiệp bao tiêu sản phẩm.",
            "Đồi chè còn là điểm chụp ảnh.",
        ],
    ),
    (
        "C3",
        "Kinh tế",
        "Búp Shan tuyết cổ thụ",
        "Búp Shan tuyết cổ thụ được chế biến thủ công.",
        [
            "Sản phẩm được đóng hộp đẹp mắt.",
            "Giá bán lên tới hàng triệu đồng mỗi kg.",
            "Nhiều khách hàng đặt mua làm quà.",
        ],
    ),
    (
        "C4",
        "Xã hội",
        "Tuyết rơi trắng đồi chè",
        "Tuyết rơi phủ trắng đồi chè trên đỉnh núi.",
        [
            "Người dân phải che chắn cho cây trồng.",
            "Nhiều du khách lên ngắm tuyết.",
            "Nhiệt độ xuống âm 2 độ C.",
        ],
    ),
    (
        "CX1",
        "Xã hội",
        "Nâng độ che phủ rừng",
        "Độ che phủ rừng của tỉnh đạt 60%.",
        [
            "Người dân được hỗ trợ trồng rừng.",
            "Công tác tuần tra được tăng cường.",
            "Không để xảy ra cháy rừng.",
        ],
    ),
    # --- mưa lũ / mùa lũ ---
    (
        "M1",
        "Xã hội",
        "Chủ động phòng chống thiên tai trong mùa lũ",
        "Các xã vùng cao rà soát khu dân cư có nguy cơ sạt lở trong mùa lũ.",
        [
            "Người dân được hướng dẫn kỹ năng ứng phó.",
            "Vật tư được chuẩn bị sẵn.",
            "Chính quyền trực ban nghiêm túc.",
        ],
    ),
    (
        "MX1",
        "Xã hội",
        "Lũ ống tràn về bản",
        "Do mưa, lũ ống xuất hiện bất ngờ lúc nửa đêm.",
        [
            "Người dân kịp thời sơ tán.",
            "Không có thiệt hại về người.",
            "Chính quyền hỗ trợ dọn dẹp.",
        ],
    ),
    # --- thủy điện / thuỷ điện ---
    (
        "T1",
        "Kinh tế",
        "Thủy điện nhỏ đóng góp ngân sách",
        "Các nhà máy thủy điện nhỏ nộp ngân sách hơn 500 tỷ đồng.",
        [
            "Doanh nghiệp cam kết vận hành an toàn.",
            "Việc xả lũ phải thông báo trước.",
            "Người dân được hỗ trợ tái định cư.",
        ],
    ),
    (
        "T2",
        "Xã hội",
        "Kiểm tra an toàn hồ đập",
        "Đoàn kiểm tra làm việc với các chủ đập thuỷ điện.",
        [
            "Nhiều hạng mục được yêu cầu khắc phục.",
            "Quy trình vận hành hồ chứa được rà soát.",
            "Chính quyền giám sát chặt.",
        ],
    ),
    (
        "TX1",
        "Nông nghiệp",
        "Công trình thủy lợi mới",
        "Công trình thủy lợi giúp tưới cho hơn 100 ha lúa.",
        [
            "Trạm bơm dùng điện lưới quốc gia.",
            "Người dân phấn khởi.",
            "Công trình được bàn giao cho hợp tác xã quản lý.",
        ],
    ),
    # --- numbers ---
    (
        "N1",
        "Thời sự",
        "Hợp nhất đài phát thanh và báo tỉnh",
        "Ngày 12/3/2025, báo và đài phát thanh truyền hình của tỉnh hợp nhất.",
        [
            "Cơ quan mới có hơn 200 cán bộ.",
            "Các sản phẩm báo chí được phát hành trên nhiều nền tảng.",
            "Bạn đọc có thể nghe podcast hằng ngày.",
        ],
    ),
    (
        "N2",
        "Kinh tế",
        "Mục tiêu thu ngân sách năm 2025",
        "Tỉnh phấn đấu thu ngân sách đạt 10.000 tỷ đồng trong năm 2025.",
        [
            "Các ngành đẩy mạnh cải thiện môi trường đầu tư.",
            "Doanh nghiệp được hỗ trợ thủ tục.",
            "Kết quả sẽ được đánh giá giữa năm.",
        ],
    ),
    (
        "NX1",
        "Nông nghiệp",
        "Sản lượng dứa vượt kế hoạch",
        "Nông dân thu hoạch 2.025 tấn dứa trong vụ này.",
        ["Giá dứa ổn định.", "Nhà máy thu mua toàn bộ sản lượng.", "Nông dân phấn khởi."],
    ),
    (
        "NX2",
        "Kinh tế",
        "Tổng kết năm 2024",
        "Năm 2024, kinh tế tỉnh tăng trưởng khá.",
        [
            "Thu ngân sách vượt dự toán.",
            "Đời sống người dân được cải thiện.",
            "Tỉnh đặt mục tiêu cao hơn cho năm tới.",
        ],
    ),
]

# Keys whose published_at is forced into 2025 although their text has no "2025".
PUBLISHED_2025 = {"NX1", "NX2", "BH4"}

# ---------------------------------------------------------------------------------------
# Filler: neutral sentence pools (no queried name, no accent twin of one)
# ---------------------------------------------------------------------------------------

PLACES = [
    "Y Tý",
    "Trạm Tấu",
    "Văn Chấn",
    "Lục Yên",
    "Phong Hải",
    "Bản Lầu",
    "Cốc San",
    "Tân An",
    "Gia Phú",
    "Trịnh Tường",
    "Tả Phìn",
    "Lùng Phình",
    "Nậm Chày",
    "Tú Lệ",
    "Khánh Yên",
    "Xuân Quang",
]
PEOPLE = [
    "ông Lý Seo Chứ",
    "bà Hoàng Thị Lan",
    "anh Giàng A Páo",
    "chị Vàng Thị Mỷ",
    "ông Nguyễn Văn Tuấn",
    "bà Đỗ Thị Hương",
    "ông Sần Chỉn Phủ",
    "chị Lò Thị Xuân",
]
AUTHORS: list[str | None] = [
    "Minh Anh",
    "Hồng Duyên",
    "Thanh Tùng",
    "Ngọc Ánh",
    "Quang Huy",
    "Thu Trang",
    "Đức Toàn",
    None,
    None,
]

POOLS: dict[str, tuple[list[str], list[str]]] = {
    # category: (titles, sentences)
    "Nông nghiệp": (
        [
            "Nông dân {place} vào vụ lúa xuân",
            "Trồng gừng trên đất dốc ở {place}",
            "Chăn nuôi lợn đen giúp người dân {place} thoát nghèo",
            "Dứa {place} được giá",
        ],
        [
            "Năm nay, nông dân xã {place} gieo cấy hơn {n} ha lúa xuân đúng khung thời vụ.",
            "Ngành nông nghiệp khuyến cáo bà con theo dõi sâu bệnh, bón phân cân đối.",
            "Mô hình trồng gừng trên đất dốc ở {place} cho thu nhập ổn định.",
            "Theo {person}, giá vật tư tăng nhưng người dân vẫn mạnh dạn đầu tư giống mới.",
            "Cán bộ khuyến nông thường xuyên xuống đồng hướng dẫn kỹ thuật cho nông dân.",
            "Đàn trâu, bò được tiêm phòng đầy đủ trước khi rét đậm.",
            "Nhiều hộ gia đình đã thoát nghèo nhờ chăn nuôi lợn đen bản địa.",
            "Diện tích dứa tại {place} đạt khoảng {n} ha.",
            "Người dân chuyển đổi những chân ruộng kém hiệu quả sang trồng rau màu.",
        ],
    ),
    "Giáo dục": (
        [
            "Trường nội trú {place} khai giảng năm học mới",
            "Thầy cô vượt núi giữ học sinh ở {place}",
            "Thư viện thân thiện cho học sinh {place}",
        ],
        [
            "Trường Phổ thông dân tộc nội trú {place} khai giảng năm học mới với {n} học sinh.",
            "Thầy cô giáo vượt núi đến từng nhà vận động các em trở lại lớp.",
            "Nhà trường tổ chức bữa ăn trưa cho học sinh ở xa.",
            "Ngành giáo dục đang rà soát cơ sở vật chất, bổ sung phòng học kiên cố.",
            "Tỷ lệ học sinh tốt nghiệp trung học phổ thông đạt {pct}%.",
            "Theo {person}, nhà trường ưu tiên dạy tiếng Việt cho trẻ mầm non người dân tộc thiểu số.",
            "Thư viện thân thiện giúp các em hình thành thói quen đọc sách.",
            "Học sinh ở xa được bố trí chỗ ở ngay trong khuôn viên trường.",
        ],
    ),
    "Du lịch": (
        [
            "Khách tìm về {place} trải nghiệm văn hóa bản địa",
            "Homestay {place} kín phòng",
            "{place} hút khách dịp cuối tuần",
        ],
        [
            "Dịp cuối tuần, nhiều đoàn khách tìm đến {place} để trải nghiệm văn hóa bản địa.",
            "Các homestay ở {place} luôn kín phòng trong mùa hoa đào.",
            "Người dân được tập huấn kỹ năng đón tiếp khách và giới thiệu ẩm thực địa phương.",
            "Lượng khách quốc tế tăng khoảng {pct}% so với cùng kỳ.",
            "Đường lên bản đã được trải nhựa, thuận lợi cho xe khách.",
            "Theo {person}, du khách thích nhất là được ngủ trong nhà truyền thống.",
            "Nhiều bạn trẻ trong bản đã biết giao tiếp bằng tiếng Anh.",
        ],
    ),
    "Kinh tế": (
        [
            "Sản phẩm OCOP của {place} tìm đầu ra",
            "Doanh nghiệp {place} mở rộng sản xuất",
            "Hội chợ thương mại thu hút doanh nghiệp",
        ],
        [
            "Doanh nghiệp trên địa bàn nộp ngân sách hơn {n} tỷ đồng.",
            "Tỉnh đang kêu gọi đầu tư vào hạ tầng khu công nghiệp.",
            "Sản phẩm OCOP của {place} được trưng bày tại hội chợ thương mại.",
            "Nhiều tiểu thương cho biết sức mua đã tăng trở lại.",
            "Theo {person}, doanh nghiệp cần thêm vốn ưu đãi để mở rộng nhà xưởng.",
            "Hàng trăm lao động địa phương có việc làm ổn định.",
            "Các sản phẩm được gắn mã truy xuất nguồn gốc.",
        ],
    ),
    "Xã hội": (
        [
            "Khám sức khỏe miễn phí cho người cao tuổi {place}",
            "Xóa nhà tạm cho hộ nghèo {place}",
            "Diện mạo mới ở {place}",
        ],
        [
            "Trạm y tế xã {place} khám sức khỏe miễn phí cho {n} người cao tuổi.",
            "Đội thanh niên tình nguyện sửa nhà cho hộ nghèo.",
            "Chương trình xây dựng nông thôn mới giúp diện mạo các bản thay đổi rõ rệt.",
            "Nhiều hộ dân được hỗ trợ xóa nhà tạm, nhà dột nát.",
            "Theo {person}, người dân đã quen đến trạm y tế khi ốm đau.",
            "Nước sạch đã về tới từng cụm dân cư.",
            "Các gia đình chính sách được thăm hỏi, tặng quà.",
        ],
    ),
    "Biên giới": (
        ["Tuần tra mốc quốc giới ở {place}", "Bộ đội giúp dân {place} thu hoạch lúa"],
        [
            "Đồn Biên phòng phối hợp với người dân tuần tra mốc quốc giới.",
            "Cán bộ, chiến sĩ giúp bà con thu hoạch lúa.",
            "Tổ tự quản đường biên ở {place} hoạt động hiệu quả.",
            "Theo {person}, người dân đã chủ động báo tin khi phát hiện người lạ.",
            "Các chiến sĩ dạy chữ cho người lớn tuổi vào buổi tối.",
        ],
    ),
    "Thời sự": (
        [
            "Hội nghị đánh giá nhiệm vụ sáu tháng",
            "Chính quyền cấp xã ở {place} vận hành ổn định",
            "Trung tâm phục vụ hành chính công {place} đông người dân",
        ],
        [
            "Hội nghị đánh giá kết quả thực hiện nhiệm vụ sáu tháng đầu năm.",
            "Ủy ban nhân dân tỉnh yêu cầu các sở, ngành triển khai đồng bộ giải pháp.",
            "Sau khi sắp xếp đơn vị hành chính, bộ máy chính quyền xã {place} vận hành ổn định.",
            "Người dân đến làm thủ tục tại trung tâm phục vụ hành chính công được hướng dẫn tận tình.",
            "Theo {person}, cán bộ xã đã quen với cách làm việc mới.",
            "Đại biểu đề nghị tăng cường kiểm tra, giám sát.",
        ],
    ),
    "Văn hóa": (
        ["Giữ gìn điệu múa truyền thống ở {place}", "Lớp dạy thêu thổ cẩm tại {place}"],
        [
            "Câu lạc bộ văn nghệ {place} duy trì sinh hoạt hằng tuần.",
            "Lớp dạy thêu thổ cẩm thu hút {n} học viên.",
            "Theo {person}, lớp trẻ ngày càng yêu thích trang phục truyền thống.",
            "Các nghệ nhân truyền dạy điệu múa cho học sinh.",
            "Nhà văn hóa thôn được sửa chữa khang trang.",
        ],
    ),
    "Thiên tai": (
        ["Sạt lở sau mưa lớn ở {place}", "Di dời dân khỏi vùng nguy hiểm tại {place}"],
        [
            "Mưa lớn kéo dài khiến nhiều tuyến đường ở {place} bị sạt lở.",
            "Lực lượng chức năng đã di dời {n} hộ dân khỏi vùng nguy hiểm.",
            "Chính quyền địa phương cấp gạo, nước sạch cho người dân bị ảnh hưởng.",
            "Máy xúc được huy động thông tuyến trong đêm.",
            "Theo {person}, người dân cần theo dõi bản tin thời tiết hằng ngày.",
        ],
    ),
}

# Extra sentences added (rarely) to filler to give the generic phrase queries a few
# relevant filler articles; each is about one phrase only.
SPICE = {
    "Du lịch": "Mô hình du lịch cộng đồng ở {place} mang lại việc làm cho hàng chục lao động.",
    "Nông nghiệp": "Hợp tác xã nông nghiệp {place} đã liên kết tiêu thụ {n} tấn nông sản.",
    "Giáo dục": "Nhà trường hiện có {n} học sinh bán trú.",
}

N_FILLER = 225


def fill(template: str, rng: random.Random, place: str, person: str) -> str:
    # One place and one person per article, so a filler article reads as one story.
    return template.format(
        place=place, person=person, n=rng.randint(12, 950), pct=rng.randint(3, 40)
    )


def make_filler(rng: random.Random) -> list[tuple[str, str, str, str, list[str]]]:
    out: list[tuple[str, str, str, str, list[str]]] = []
    cats = sorted(POOLS)
    for i in range(N_FILLER):
        cat = cats[i % len(cats)]
        titles, sentences = POOLS[cat]
        place, person = rng.choice(PLACES), rng.choice(PEOPLE)
        picks = rng.sample(sentences, rng.randint(4, min(7, len(sentences))))
        if cat in SPICE and rng.random() < 0.12:
            picks.insert(rng.randint(1, len(picks)), SPICE[cat])
        body = [fill(s, rng, place, person) for s in picks]
        title = fill(rng.choice(titles), rng, place, person)
        category = "Xã hội" if cat == "Thiên tai" else cat
        out.append((f"F{i:03d}", category, title, body[0], body[1:]))
    return out


# ---------------------------------------------------------------------------------------
# Queries: (query, mode, kind, note, expect_in, expect_out) — expectations are planted keys
# ---------------------------------------------------------------------------------------

QuerySpec = tuple[str, str, str, str, list[str], list[str]]

QUERIES: list[QuerySpec] = [
    (
        "lao cai",
        "default",
        "place",
        "Province name typed without accents; 'lao cải' folds to it and is relevant; 'lao động … rau cải', 'cải cách … lao xao', 'ném lao. Cải' are not.",
        ["LC1", "LC2", "LC3", "LC4", "LC5", "LC6", "LC7", "LC8"],
        ["LCX1", "LCX2", "LCX3"],
    ),
    (
        "Lào Cai",
        "default",
        "accent",
        "Typed with accents: every folded match is relevant; the exact-accent ones (incl. upper-case title) rank above 'lao cải' and 'Lao Cai Station'.",
        ["LC1", "LC3", "LC7", "LC8"],
        ["LCX1", "LCX2", "LCX3"],
    ),
    (
        '"Lào Cai"',
        "exact",
        "accent",
        "--exact: 'lao cải' (reform labour) and unaccented 'Lao Cai' are out; upper-case 'LÀO CAI' is in.",
        ["LC1", "LC3", "LC6"],
        ["LC7", "LC8", "LCX1"],
    ),
    (
        '"lao cai"',
        "exact",
        "accent",
        "--exact typed WITHOUT diacritics: only text written without them ('Lao Cai Station') matches.",
        ["LC8"],
        ["LC1", "LC3", "LC7"],
    ),
    (
        "LÀO CAI",
        "exact",
        "accent",
        "Upper-case query with --exact is case-insensitive.",
        ["LC1", "LC3"],
        ["LC7", "LC8"],
    ),
    (
        "sa pa",
        "default",
        "place",
        "Phrase plus the assumed variant group [Sa Pa, Sapa]: 'Sapa', 'SaPa', 'SA PA' are in; 'phù sa. Pa Cheo' and 'sa sút … Pa Kha' are out.",
        ["SP1", "SP2", "SP3", "SP4", "SP5", "SP6", "SP7"],
        ["SPX1", "SPX2"],
    ),
    (
        "sapa",
        "default",
        "variant",
        "One-word spelling finds 'Sa Pa' via the variant group and 'SaPa' by case folding.",
        ["SP1", "SP4", "SP5"],
        ["SPX1", "SPX2"],
    ),
    ("SaPa", "default", "variant", "Camel-case spelling = sapa.", ["SP1", "SP4", "SP5"], ["SPX1"]),
    (
        "fansipan",
        "default",
        "variant",
        "Assumed variant group [Fansipan, Phan Xi Păng].",
        ["F1", "F2", "SP7"],
        [],
    ),
    (
        "phan xi păng",
        "default",
        "variant",
        "Other member of the same group (typed with accents; no tier asserted across variants).",
        ["F1", "F2", "SP7"],
        [],
    ),
    (
        "bắc hà",
        "default",
        "accent",
        "Folded 'bac ha' also matches 'bạc hà' (mint), ranked below the exact 'Bắc Hà'/'BẮC HÀ'; 'Hà Bắc' and 'phía bắc. Hà Khẩu' are out.",
        ["BH1", "BH2", "BH3", "BH4", "SP6", "BHX1"],
        ["BHX2", "BHX3"],
    ),
    (
        '"bắc hà"',
        "exact",
        "accent",
        "--exact excludes 'bạc hà'.",
        ["BH1", "BH4"],
        ["BHX1", "BHX2", "BHX3"],
    ),
    (
        "bac ha",
        "default",
        "place",
        "Unaccented: same set as 'bắc hà', no accent tier.",
        ["BH1", "BHX1"],
        ["BHX2", "BHX3"],
    ),
    (
        "bát xát",
        "default",
        "place",
        "'bát ngát … xay xát' and 'xát muối … bát cơm' are out.",
        ["BX1", "BX2", "BX3"],
        ["BXX1", "BXX2"],
    ),
    (
        "mường khương",
        "default",
        "place",
        "'Lù Văn Khương … đồng bào Mường' (reverse order, apart) is out.",
        ["MK1", "MK2", "MK3"],
        ["MKX1"],
    ),
    (
        "yên bái",
        "default",
        "place",
        "'lễ bái yên lặng' (reverse order) and 'Bảo Yên … bài học' are out.",
        ["LC6", "YB1", "YB3", "YBX4"],
        ["YBX1", "YBX2"],
    ),
    (
        "mù cang chải",
        "default",
        "place",
        "Three syllables; the misspelling 'Mù Căng Chải' folds to it; 'sương mù … A Cang … chải' is out.",
        ["MC1", "MC2", "MC3"],
        ["MCX1"],
    ),
    (
        '"Mù Cang Chải"',
        "exact",
        "accent",
        "--exact excludes the misspelling 'Mù Căng Chải'.",
        ["MC1", "MC2"],
        ["MC3", "MCX1"],
    ),
    (
        "nghĩa lộ",
        "default",
        "place",
        "Contract is lexical: lower-case 'ý nghĩa lộ rõ' IS a match; 'ý nghĩa. Lộ trình' is not (punctuation).",
        ["NL1", "MC2", "NL2"],
        ["NLX1"],
    ),
    (
        "Văn Bàn",
        "default",
        "accent",
        "Folded 'van ban' matches 'văn bản' (document) too; exact-accent 'Văn Bàn' ranks first; 'bàn bạc … văn nghệ' is out.",
        ["VB1", "VB2", "VBX1", "VBX2"],
        ["VBX3"],
    ),
    (
        '"văn bàn"',
        "exact",
        "accent",
        "--exact: only the district, not 'văn bản'.",
        ["VB1", "VB2"],
        ["VBX1", "VBX2", "VBX3"],
    ),
    (
        "bảo thắng",
        "default",
        "place",
        "Lexical match in 'đảm bảo thắng lợi' is relevant per contract; 'chiến thắng, quyết tâm bảo vệ' is out.",
        ["BT1", "BT2", "BT3"],
        ["BTX1"],
    ),
    (
        "kim thành",
        "default",
        "place",
        "'tăng kim ngạch. Thành công' is out (punctuation).",
        ["KT1", "KT2"],
        ["KTX1"],
    ),
    (
        "dien bien",
        "default",
        "accent",
        "đ→d: finds 'Điện Biên' and (folded) 'diễn biến'; 'biên phòng … điện' is out.",
        ["DB1", "DB2", "DB3"],
        ["DBX1"],
    ),
    (
        "Điện Biên",
        "default",
        "accent",
        "Accented query: 'Điện Biên' ranks above 'diễn biến'.",
        ["DB1", "DB2", "DB3"],
        ["DBX1"],
    ),
    (
        '"điện biên"',
        "exact",
        "accent",
        "--exact excludes 'diễn biến'.",
        ["DB1", "DB2"],
        ["DB3", "DBX1"],
    ),
    (
        "Hòa Bình",
        "default",
        "accent",
        "Every folded match; exact-accent ones ('hòa bình', 'hoà bình', 'HÒA BÌNH') rank above 'văn hóa bình dân' and 'hoa bình dị'; 'hàng hóa. Bình' is out.",
        ["HB1", "HB2", "HB3", "HB4", "HBX1", "HBX2"],
        ["HBX3"],
    ),
    (
        "hoa binh",
        "default",
        "accent",
        "Unaccented: same relevant set, no accent tier.",
        ["HB1", "HBX1", "HBX2"],
        ["HBX3"],
    ),
    (
        '"hòa bình"',
        "exact",
        "accent",
        "--exact, new tone placement: 'hoà bình' (old placement) is in; 'hóa bình', 'hoa bình' are out.",
        ["HB1", "HB2", "HB3", "HB4"],
        ["HBX1", "HBX2", "HBX3"],
    ),
    (
        '"hoà bình"',
        "exact",
        "accent",
        "--exact typed with the old tone placement: same set as q for 'hòa bình'.",
        ["HB1", "HB2", "HB3", "HB4"],
        ["HBX1", "HBX2"],
    ),
    (
        '"HÒA BÌNH"',
        "exact",
        "accent",
        "--exact, upper-case query.",
        ["HB1", "HB4"],
        ["HBX1", "HBX2"],
    ),
    (
        unicodedata.normalize("NFD", '"hòa bình"'),
        "exact",
        "accent",
        "--exact, query in NFD (decomposed) Unicode.",
        ["HB1", "HB2", "HB4"],
        ["HBX1", "HBX2"],
    ),
    (
        "quế",
        "default",
        "accent",
        "Folded 'que' matches quê/que too; 'quế' (cinnamon) ranks first.",
        ["Q1", "VB1", "YB1", "QX1", "QX2"],
        [],
    ),
    (
        "quế",
        "exact",
        "accent",
        "--exact: cinnamon only, not 'quê hương', not 'que tính'.",
        ["Q1", "VB1", "YB1"],
        ["QX1", "QX2"],
    ),
    ("quê", "exact", "accent", "--exact: homeland only.", ["QX1"], ["Q1", "VB1", "QX2"]),
    (
        "chè",
        "default",
        "accent",
        "Folded 'che' also matches 'chế biến', 'che phủ', 'che chắn'; 'chè' ranks first.",
        ["C1", "C2", "C4", "BH3", "C3", "CX1"],
        [],
    ),
    ("chè", "exact", "accent", "--exact: tea only.", ["C1", "C2", "C4", "BH3"], ["C3", "CX1"]),
    (
        "mưa lũ",
        "default",
        "accent",
        "Folded 'mua lu' also matches 'mùa lũ'; 'MƯA LŨ' title and 'mưa lũ' rank first; 'mưa, lũ ống' is out.",
        ["VB2", "DB3", "M1"],
        ["MX1"],
    ),
    ('"mưa lũ"', "exact", "accent", "--exact excludes 'mùa lũ'.", ["VB2", "DB3"], ["M1", "MX1"]),
    ('"mùa lũ"', "exact", "accent", "--exact excludes 'mưa lũ'.", ["M1"], ["VB2", "DB3", "MX1"]),
    (
        '"thủy điện"',
        "exact",
        "accent",
        "--exact with tone placement normalised: 'thuỷ điện' is in; 'thủy lợi … điện' out.",
        ["T1", "T2"],
        ["TX1"],
    ),
    (
        "thuỷ điện",
        "default",
        "accent",
        "Old tone placement typed; both spellings are exact-accent matches.",
        ["T1", "T2"],
        ["TX1"],
    ),
    (
        "2025",
        "default",
        "phrase",
        "Numbers are words: '1/7/2025', '12/3/2025', 'năm 2025' are in; '2.025 tấn', 'năm 2024' (even when published in 2025) are out.",
        ["LC6", "YB2", "N1", "N2"],
        ["NX1", "NX2"],
    ),
    ("du lịch cộng đồng", "default", "phrase", "Three-syllable common phrase.", ["SP2"], []),
    ("học sinh bán trú", "default", "phrase", "Four-syllable phrase.", ["BX2"], []),
    ('"cửa khẩu quốc tế"', "default", "phrase", "Quoted phrase.", ["LC2", "KT1"], ["MK2"]),
    (
        "hợp tác xã",
        "default",
        "phrase",
        "Common three-syllable phrase, several filler articles too.",
        ["LCX1", "BHX1", "BXX1"],
        [],
    ),
    ("thảo quả", "default", "phrase", "Two-syllable crop name.", ["BX1", "BXX3"], []),
    (
        "du lịch",
        "default",
        "phrase",
        "Common two-syllable word; 'du khách' alone is not it.",
        ["SP1", "SP2", "SP5", "LC1"],
        ["SP7", "F1"],
    ),
    (
        "biên giới",
        "default",
        "phrase",
        "'biên phòng' (another compound with 'biên') is not it.",
        ["LC2", "LC3", "HB1", "KTX2"],
        ["DBX1", "MK2"],
    ),
    (
        unicodedata.normalize("NFD", "Văn Bàn"),
        "default",
        "accent",
        "Same as 'Văn Bàn' but typed in NFD: same relevant set and the same accent tier.",
        ["VB1", "VB2", "VBX1", "VBX2"],
        ["VBX3"],
    ),
    (
        '"bắc hà" OR "văn bàn"',
        "exact",
        "boolean",
        "--exact applies to every phrase of an OR: 'bạc hà' and 'văn bản' are out.",
        ["BH1", "BH4", "VB1", "VB2", "SP6"],
        ["BHX1", "VBX1", "VBX2"],
    ),
    (
        '"sa pa" OR "bắc hà"',
        "default",
        "boolean",
        "Union; 'bạc hà' is in (folded), confusers of both are out.",
        ["SP1", "SP4", "BH1", "SP6", "BHX1"],
        ["SPX1", "BHX2", "BHX3"],
    ),
    (
        '"chè" "shan tuyết"',
        "default",
        "boolean",
        "Two phrases anywhere; 'chế biến' satisfies folded 'chè'; 'đồi chè … tuyết rơi' lacks 'shan tuyết'.",
        ["C1", "BH3", "C3"],
        ["C4"],
    ),
    (
        '"chè" "shan tuyết"',
        "exact",
        "boolean",
        "--exact: 'chế biến' no longer satisfies 'chè'.",
        ["C1", "BH3"],
        ["C3", "C4"],
    ),
    (
        'sa pa "du lịch"',
        "default",
        "boolean",
        'Unquoted run before a quoted phrase is a phrase: same as \'"sa pa" "du lịch"\'.',
        ["SP1", "SP2", "SP5", "SP6"],
        ["SP3", "SP4", "SP7"],
    ),
    (
        '"sa pa" "du lịch"',
        "default",
        "boolean",
        "Same as the previous query.",
        ["SP1", "SP2"],
        ["SP3"],
    ),
    (
        '"bát xát" "thảo quả" OR "mường khương"',
        "default",
        "boolean",
        "AND binds tighter than OR: (bát xát AND thảo quả) OR mường khương.",
        ["BX1", "MK1", "MK2", "MK3"],
        ["BX2", "BX3", "BXX3"],
    ),
    (
        "mù cang chải OR nghĩa lộ",
        "default",
        "boolean",
        "Unquoted runs around OR are phrases.",
        ["MC1", "MC3", "NL1", "NL2"],
        ["MCX1", "NLX1"],
    ),
    (
        'yên bái "sáp nhập"',
        "default",
        "boolean",
        "Both phrases; 'sát nhập' (misspelling) does not fold to 'sáp nhập'; 'sáp nhập xã' without Yên Bái is out.",
        ["LC6", "YB2"],
        ["YBX3", "YBX4"],
    ),
    (
        'lao cai -"biên giới"',
        "default",
        "exclude",
        "Lào Cai articles mentioning 'biên giới' are left out.",
        ["LC1", "LC4", "LC5", "LC6", "LC7", "LC8"],
        ["LC2", "LC3"],
    ),
    (
        '"cửa khẩu" -"kim thành"',
        "default",
        "exclude",
        "Border-gate articles except Kim Thành.",
        ["LC2", "MK2", "KTX2"],
        ["KT1"],
    ),
    (
        'bắc hà -"chè"',
        "default",
        "exclude",
        "Exclusion is folded in default mode: 'chè' also removes articles with 'che chắn'/'chế biến' (none of the Bắc Hà set has them except the tea one).",
        ["BH1", "BH2", "BH4", "SP6", "BHX1"],
        ["BH3"],
    ),
    (
        'sa pa -"du lịch"',
        "default",
        "exclude",
        "Exclusion of a common phrase.",
        ["SP3", "SP4"],
        ["SP1", "SP2", "SP5"],
    ),
    (
        'hòa bình -"văn hóa"',
        "default",
        "exclude",
        "Exclusion applies to the folded phrase anywhere: articles that also mention 'văn hóa' (incl. 'văn hóa bình dân') are left out.",
        ["HB2", "HB4", "HBX2"],
        ["HB1", "HB3", "HBX1"],
    ),
    (
        "lao cai",
        "words",
        "place",
        "--words: 'lao động … rau cải', 'cải cách … lao xao', 'ném lao. Cải' ARE relevant; the phrase matches rank first.",
        ["LC1", "LCX1", "LCX2", "LCX3"],
        [],
    ),
    (
        "bat xat",
        "words",
        "place",
        "--words: scattered 'bát ngát … xay xát' and reversed 'xát … bát' are relevant.",
        ["BX1", "BXX1", "BXX2"],
        [],
    ),
    (
        "yen bai",
        "words",
        "place",
        "--words: 'lễ bái yên lặng', 'Bảo Yên … bài học' relevant.",
        ["YB1", "YBX1", "YBX2"],
        [],
    ),
    (
        "mu cang chai",
        "words",
        "place",
        "--words: 'sương mù … A Cang … chải' relevant.",
        ["MC1", "MCX1"],
        [],
    ),
    (
        "bac ha",
        "words",
        "place",
        "--words: 'Hà Bắc', 'phía bắc. Hà Khẩu' relevant.",
        ["BH1", "BHX1", "BHX2", "BHX3"],
        [],
    ),
]


# ---------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------


def build() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    rng = random.Random(SEED)
    raw = [*PLANTED, *make_filler(rng)]
    rng.shuffle(raw)
    key_to_id: dict[str, int] = {}
    articles: list[dict[str, object]] = []
    start = datetime(2023, 1, 2, 6, 0, tzinfo=VN)
    minutes = sorted(rng.sample(range(0, 3 * 365 * 24 * 60 // 7), len(raw)))
    slot_2025 = [m for m in minutes if (start + timedelta(minutes=7 * m)).year == 2025]
    used_2025: list[int] = []
    for i, (key, cat, title, sapo, body) in enumerate(raw):
        aid = 1001 + i
        key_to_id[key] = aid
        m = minutes[i]
        if key in PUBLISHED_2025:
            m = slot_2025[len(used_2025) * 7 + 3]
            used_2025.append(m)
        published = start + timedelta(minutes=7 * m)
        articles.append(
            {
                "article_id": aid,
                "site": "baolaocai",
                "title": unicodedata.normalize("NFC", title),
                "sapo": unicodedata.normalize("NFC", sapo),
                "body": unicodedata.normalize("NFC", " ".join(body)),
                "author": rng.choice(AUTHORS),
                "category": cat,
                "published_at": published.isoformat(timespec="seconds"),
            }
        )
    # Forced 2025 slots may collide with another article's time: nudge duplicates by a minute.
    seen: set[str] = set()
    for a in articles:
        t = datetime.fromisoformat(str(a["published_at"]))
        while t.isoformat() in seen:
            t += timedelta(minutes=1)
        a["published_at"] = t.isoformat(timespec="seconds")
        seen.add(str(a["published_at"]))

    docs = [doc_of(a) for a in articles]
    planted_ids = {key_to_id[k] for k, *_ in PLANTED}
    problems: list[str] = []
    queries: list[dict[str, object]] = []
    for n, (query, mode, kind, note, exp_in, exp_out) in enumerate(QUERIES, start=1):
        real_mode = "default" if mode == "variant" else mode
        relevant = sorted(d.article_id for d in docs if matches(d, query, real_mode))
        rel = set(relevant)
        loose = {d.article_id for d in docs if loosely_matches(d, query)}
        if real_mode == "exact":
            loose |= {d.article_id for d in docs if matches(d, query, "default")}
        p = parse(query)
        if p.excludes:
            stripped = " ".join(" ".join(f'"{" ".join(ph)}"' for ph in g) for g in p.groups)
            loose |= {d.article_id for d in docs if matches(d, stripped, real_mode)}
        must_not = (loose | {key_to_id[k] for k in exp_out}) - rel
        ranked_first: list[int] = []
        single = len(p.groups) == 1 and len(p.groups[0]) == 1 and not p.excludes
        if (
            real_mode == "default"
            and single
            and has_diacritics(query)
            and not in_variant_group(p.groups[0][0])
        ):
            ranked_first = [
                i for i in relevant if has_phrase(docs[i - 1001], p.groups[0][0], exact=True)
            ]
        if real_mode == "words" and single:
            ranked_first = [
                i for i in relevant if has_phrase(docs[i - 1001], p.groups[0][0], exact=False)
            ]
        if set(ranked_first) == rel:
            ranked_first = []  # a tier holding every relevant article asserts nothing
        for k in exp_in:
            if key_to_id[k] not in rel:
                problems.append(
                    f"q{n:02d} {query!r}: planted {k} expected relevant, matcher says no"
                )
        for k in exp_out:
            if key_to_id[k] in rel:
                problems.append(
                    f"q{n:02d} {query!r}: planted {k} expected out, matcher says relevant"
                )
        # Filler must only ever be relevant to the generic-phrase queries.
        stray = rel - planted_ids
        if stray and kind not in ("phrase",) and query not in ('"cửa khẩu" -"kim thành"',):
            problems.append(f"q{n:02d} {query!r}: filler relevant: {sorted(stray)[:5]}")
        if not relevant:
            problems.append(f"q{n:02d} {query!r}: nothing relevant")
        cross = sorted(
            int(str(a["article_id"])) for a in articles if regex_matches(a, query, real_mode)
        )
        if cross != relevant:
            problems.append(f"q{n:02d} {query!r}: matchers disagree: {sorted(set(cross) ^ rel)}")
        queries.append(
            {
                "id": f"q{n:02d}",
                "query": query,
                "mode": real_mode,
                "kind": kind,
                "relevant": relevant,
                "must_not": sorted(must_not),
                "ranked_first": ranked_first,
                "note": note,
            }
        )
    if problems:
        raise SystemExit("relevance set inconsistent:\n" + "\n".join(problems))
    return articles, queries


def main() -> None:
    articles, queries = build()
    with (HERE / "articles.jsonl").open("w", encoding="utf-8") as fh:
        for a in articles:
            fh.write(json.dumps(a, ensure_ascii=False) + "\n")
    (HERE / "queries.json").write_text(
        json.dumps(queries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    for q in queries:
        rel = q["relevant"]
        assert isinstance(rel, list)
        print(f"{q['id']} {q['mode']:7} {q['kind']:8} {len(rel):3d} {q['query']}", file=sys.stderr)
    print(f"{len(articles)} articles, {len(queries)} queries", file=sys.stderr)


if __name__ == "__main__":
    main()
