"""Writes the development relevance set (``articles.jsonl``, ``queries.json``; the format
of ``tests/warehouse/relevance/``) for ``benchmarks/relevance.py``.

Written with the search, to cover what the held-out set leaves open: punctuation inside a
word (``COVID-19``, ``Lào Cai-Yên Bái``), a phrase across the sapo and the body, the other
spelling groups of the site file (``Y Tý``/``Y Tí``, ``Phanxipăng``), a variant inside a
longer phrase, exclusions of a variant or in ``--exact`` mode, tone placement of ``oe``
and ``uy``, ``đ``, decomposed and upper-case queries, OR of three.

Relevance is not typed by hand: a reference matcher here, written apart from
``warehouse/search_query.py`` (its own tokens, its own tone table), computes it from each
query's *structure* (groups of phrases with their spellings written out, exclusions,
mode); the query string is what a user types for that structure. Run it to rewrite the
two files: ``python tests/warehouse/relevance_dev/make_dev_set.py``.
"""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).parent

# (title, sapo, body); ids from 5001, published a day apart, newest last.
ARTICLES = [
    (
        "Phòng chống COVID-19 ở vùng cao",
        "Ngành y tế chủ động.",
        "Tiêm vắc xin COVID-19 cho người dân.",
    ),
    ("Covid 19 và kinh tế", "Doanh nghiệp phục hồi.", "Sau đại dịch covid 19, sản xuất trở lại."),
    ("Dịch bệnh COVID", "Ghi nhận 19 ca.", "Bệnh COVID, 19 ca mới được phát hiện."),
    ("Tỉnh Lào Cai-Yên Bái sau hợp nhất", "Bộ máy mới vận hành.", "Các sở ngành đã ổn định."),
    (
        "Đường Lào Cai - Yên Bái được nâng cấp",
        "Dự án giao thông.",
        "Tuyến nối Lào Cai với Yên Bái.",
    ),
    ("Về Y Tý mùa lúa chín", "Ruộng bậc thang.", "Y Tý đẹp nhất vào tháng chín."),
    ("Y Tí vào mùa mây", "Săn mây.", "Du khách lên Y Tí săn mây."),
    ("Chinh phục Phanxipăng", "Nóc nhà Đông Dương.", "Hàng nghìn người lên đỉnh Phanxipăng."),
    ("Cáp treo Fansipan đông khách", "Dịp nghỉ lễ.", "Fansipan đón khách quốc tế."),
    ("Leo núi Phan Xi Păng", "Hành trình hai ngày.", "Đoàn leo Phan Xi Păng từ Trạm Tôn."),
    ("Du lịch Sapa mùa đông", "Tuyết rơi.", "Du lịch Sapa hút khách dịp cuối năm."),
    ("Du lịch Sa Pa khởi sắc", "Khách tăng mạnh.", "Du lịch Sa Pa phục hồi nhanh."),
    ("Sa Pa trong mắt du khách", "Cảm nhận.", "Nhiều du khách yêu Sa Pa vì khí hậu."),
    (
        "Sản phẩm OCOP",
        "Hội chợ tại Lào",
        "Cai Kinh là tên một bản nhỏ; hội chợ giới thiệu sản phẩm.",
    ),
    ("Giữ gìn sức khoẻ mùa lạnh", "Lời khuyên.", "Người cao tuổi cần giữ sức khoẻ."),
    ("Sức khỏe cộng đồng", "Khám miễn phí.", "Chăm sóc sức khỏe ban đầu."),
    ("Uỷ ban nhân dân xã họp", "Triển khai nhiệm vụ.", "Uỷ ban giao chỉ tiêu cho các thôn."),
    ("Ủy ban Mặt trận Tổ quốc", "Vận động.", "Ủy ban phát động quỹ vì người nghèo."),
    ("Thuỷ điện tích nước", "Mùa khô.", "Các hồ thuỷ điện tích nước phục vụ phát điện."),
    ("Thủy lợi nội đồng", "Kênh mương.", "Xây dựng thủy lợi, không phải thủy điện nhỏ."),
    ("Khu công nghiệp Đông Phố Mới", "Thu hút đầu tư.", "Đắk Lắk cử đoàn học tập."),
    ("Cà phê Dak Lak", "Hợp tác.", "Doanh nghiệp Dak Lak mua chè Lào Cai."),
    ("Hàng hóa qua cửa khẩu", "Xuất nhập khẩu.", "Hàng hoá. Bình quân mỗi ngày 500 xe."),
    ("Hòa bình và hữu nghị", "Biên giới.", "Xây dựng biên giới hòa bình, hữu nghị."),
    ("Mùa hoa đào", "Hoa nở.", "Hoa đào Bắc Hà nở rộ, bình yên."),
    ("Chợ phiên Bắc Hà", "Văn hóa.", "Chợ họp chủ nhật, bán ngựa và rượu ngô."),
    ("Bắc Hà mùa mận", "Trái chín.", "Mận Bắc Hà vào vụ thu hoạch."),
    ("Bát Xát trồng thảo quả", "Kinh tế rừng.", "Thảo quả Bát Xát cho thu nhập cao."),
    ("Mường Khương trồng chè", "Chè Shan.", "Chè Mường Khương xuất khẩu."),
    ("Nghĩa Lộ mùa xòe", "Lễ hội.", "Điệu xoè Thái ở Nghĩa Lộ."),
    ("Múa xòe Thái", "Di sản.", "Nghệ thuật xòe Thái được UNESCO ghi danh."),
    ("Năm 2025 bội thu", "Nông nghiệp.", "Sản lượng lúa năm 2025 tăng."),
    ("Kế hoạch 2026", "Mục tiêu.", "Ngày 12/3/2025 tỉnh ban hành kế hoạch."),
    ("Rau cải vụ đông", "Người lao động.", "Lao động trồng rau cải trên đồi."),
    ("Lao Cai station", "Ga tàu.", "The Lao Cai station serves trains."),
    ("LÀO CAI ĐÓN TẾT", "Không khí.", "Phố phường rực rỡ."),
]

# (id, query as typed, mode, kind, groups, excluded, note).
# groups: alternatives (OR), each a list of phrases; a phrase is a list of its spellings.
Q = list[list[list[str]]]
QUERIES: list[tuple[str, str, str, str, Q, list[list[str]], str]] = [
    (
        "d01",
        "covid 19",
        "default",
        "phrase",
        [[["covid 19"]]],
        [],
        "COVID-19 and covid 19; not 'COVID, 19'",
    ),
    ("d02", "COVID-19", "default", "phrase", [[["covid 19"]]], [], "the hyphen inside the word"),
    ("d03", '"covid" "19"', "default", "boolean", [[["covid"], ["19"]]], [], "two phrases"),
    (
        "d04",
        "lao cai yen bai",
        "default",
        "place",
        [[["lao cai yen bai"]]],
        [],
        "hyphen joins; ' - ' breaks",
    ),
    (
        "d05",
        "lào cai yên bái",
        "exact",
        "accent",
        [[["lào cai yên bái"]]],
        [],
        "exact, hyphen inside",
    ),
    ("d06", "y tý", "default", "variant", [[["y ty", "y ti"]]], [], "Y Tý = Y Tí (site file)"),
    ("d07", "Y Tí", "default", "variant", [[["y ti", "y ty"]]], [], "the other member"),
    (
        "d08",
        "phanxipăng",
        "default",
        "variant",
        [[["phanxipang", "fansipan", "phan xi pang"]]],
        [],
        "three spellings",
    ),
    (
        "d09",
        "fansipan",
        "default",
        "variant",
        [[["fansipan", "phanxipang", "phan xi pang"]]],
        [],
        "",
    ),
    (
        "d10",
        "du lịch sapa",
        "default",
        "variant",
        [[["du lich sapa", "du lich sa pa"]]],
        [],
        "variant inside a phrase",
    ),
    ("d11", "du lịch sa pa", "default", "variant", [[["du lich sa pa", "du lich sapa"]]], [], ""),
    (
        "d12",
        "sa pa -sapa",
        "default",
        "exclude",
        [[["sa pa", "sapa"]]],
        [["sapa", "sa pa"]],
        "an exclusion of a variant leaves out every spelling: nothing",
    ),
    ("d13", 'sa pa -"du lịch"', "default", "exclude", [[["sa pa", "sapa"]]], [["du lich"]], ""),
    (
        "d14",
        "lao cai",
        "default",
        "place",
        [[["lao cai"]]],
        [],
        "sapo 'tại Lào' + body 'Cai Kinh' is not a phrase",
    ),
    ("d15", "Lào Cai", "default", "accent", [[["lao cai"]]], [], "exact ones first"),
    (
        "d16",
        "lào cai",
        "exact",
        "accent",
        [[["lào cai"]]],
        [],
        "upper-case LÀO CAI is in; Lao Cai station out",
    ),
    ("d17", "sức khoẻ", "default", "accent", [[["suc khoe"]]], [], "either placement"),
    ("d18", "sức khoẻ", "exact", "accent", [[["sức khỏe"]]], [], "tone placement normalised"),
    ("d19", "sức khỏe", "exact", "accent", [[["sức khỏe"]]], [], ""),
    ("d20", "ủy ban", "exact", "accent", [[["ủy ban"]]], [], "Uỷ ban = Ủy ban"),
    ("d21", "uỷ ban", "default", "accent", [[["uy ban"]]], [], ""),
    ("d22", "thuỷ điện", "exact", "accent", [[["thủy điện"]]], [], ""),
    ("d23", "thủy lợi", "default", "phrase", [[["thuy loi"]]], [], ""),
    ("d24", "đắk lắk", "default", "accent", [[["dak lak"]]], [], "đ folds to d"),
    ("d25", "dak lak", "exact", "accent", [[["dak lak"]]], [], "as typed: no đ"),
    ("d26", "đắk lắk", "exact", "accent", [[["đắk lắk"]]], [], ""),
    (
        "d27",
        "hàng hóa bình",
        "default",
        "phrase",
        [[["hang hoa binh"]]],
        [],
        "'Hàng hoá. Bình' is broken",
    ),
    (
        "d28",
        "hòa bình",
        "default",
        "accent",
        [[["hoa binh"]]],
        [],
        "'hoa đào … bình yên' is not it",
    ),
    ("d29", "hòa bình", "exact", "accent", [[["hòa bình"]]], [], ""),
    ("d30", "xòe thái", "default", "accent", [[["xoe thai"]]], [], "xoè and xòe"),
    ("d31", "xoè", "exact", "accent", [[["xòe"]]], [], "tone placement oe"),
    (
        "d32",
        '"bắc hà" OR "bát xát" OR "mường khương"',
        "default",
        "boolean",
        [[["bac ha"]], [["bat xat"]], [["muong khuong"]]],
        [],
        "three alternatives",
    ),
    (
        "d33",
        'bắc hà "mận" OR thảo quả',
        "default",
        "boolean",
        [[["bac ha"], ["man"]], [["thao qua"]]],
        [],
        "AND binds tighter",
    ),
    ("d34", 'chè -"mường khương"', "default", "exclude", [[["che"]]], [["muong khuong"]], ""),
    ("d35", "2025", "default", "phrase", [[["2025"]]], [], "12/3/2025 counts"),
    (
        "d36",
        "3 2025",
        "default",
        "phrase",
        [[["3 2025"]]],
        [],
        "12/3/2025: punctuation inside a word joins",
    ),
    ("d37", "năm 2025", "default", "phrase", [[["nam 2025"]]], [], ""),
    ("d38", "rau cải", "exact", "accent", [[["rau cải"]]], [], ""),
    ("d39", "lao cai", "words", "place", [[["lao cai"]]], [], "--words: both anywhere"),
    ("d40", "yen bai lao cai", "words", "place", [[["yen bai lao cai"]]], [], "--words, any order"),
    (
        "d41",
        "\u0053\u0061\u0300 \u0050\u0061\u0300",
        "default",
        "accent",
        [[["sa pa", "sapa"]]],
        [],
        "NFD-typed Sà Pà, folded",
    ),
    ("d42", "LÀO CAI", "default", "accent", [[["lao cai"]]], [], "upper case typed"),
    ("d43", "hoa đào", "default", "phrase", [[["hoa dao"]]], [], ""),
    (
        "d44",
        "bắc hà -chợ",
        "default",
        "exclude",
        [[["bac ha"]]],
        [["cho"]],
        "folded exclusion: 'chợ' also leaves out 'cho'",
    ),
]

# -- the reference matcher -----------------------------------------------------------------------

_TONE_FIX = {}
for _pair, _vowels in (("oa", "òóỏõọ"), ("oe", "òóỏõọ"), ("uy", "ùúủũụ")):
    _second = {"oa": "àáảãạ", "oe": "èéẻẽẹ", "uy": "ỳýỷỹỵ"}[_pair]
    for _old, _new in zip(_vowels, _second, strict=True):
        _TONE_FIX[_pair[0] + _new] = _old + _pair[1]  # "oà" -> "òa"


def fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def exact(token: str) -> str:
    token = unicodedata.normalize("NFC", token).lower()
    tail = token[-2:]
    if tail in _TONE_FIX and not token[:-2].endswith("q"):
        token = token[:-2] + _TONE_FIX[tail]
    return token


def segments(text: str) -> list[list[str]]:
    """Runs of adjacent tokens: a gap of white space only, or of punctuation only (inside a
    word), joins two tokens; a gap with both breaks."""
    text = unicodedata.normalize("NFC", text)
    runs: list[list[str]] = []
    last_end = None
    for m in re.finditer(r"[^\W_]+", text):
        gap = text[last_end : m.start()] if last_end is not None else None
        if gap is None or (gap.strip() and any(c.isspace() for c in gap)):
            runs.append([])
        runs[-1].append(m.group())
        last_end = m.end()
    return runs


def contains(fields: list[str], phrase: str, mode: str) -> bool:
    key = (lambda t: exact(t)) if mode == "exact" else (lambda t: fold(t))
    want = [key(w) for w in phrase.split()]
    for field in fields:
        for run in segments(field):
            tokens = [key(t) for t in run]
            if mode == "words":
                continue
            for i in range(len(tokens) - len(want) + 1):
                if tokens[i : i + len(want)] == want:
                    return True
    return False


def has_words(fields: list[str], phrase: str) -> bool:
    tokens = {fold(t) for f in fields for run in segments(f) for t in run}
    return all(fold(w) in tokens for w in phrase.split())


def matches(fields: list[str], spellings: list[str], mode: str) -> bool:
    if mode == "words":
        return any(has_words(fields, s) for s in spellings)
    return any(contains(fields, s, mode) for s in spellings)


def main() -> None:
    articles = []
    for n, (title, sapo, body) in enumerate(ARTICLES):
        articles.append(
            {
                "article_id": 5001 + n,
                "site": "baolaocai",
                "title": title,
                "sapo": sapo,
                "body": body,
                "author": None,
                "category": "Thời sự",
                "published_at": f"{date(2025, 1, 1) + timedelta(days=n)}T08:00:00+07:00",
            }
        )
    queries = []
    for qid, text, mode, kind, groups, excluded, note in QUERIES:
        relevant, confusers, first = [], [], []
        for a in articles:
            fields = [a["title"], a["sapo"], a["body"]]
            hit = any(all(matches(fields, p, mode) for p in g) for g in groups)
            out = any(
                matches(fields, e, "exact" if mode == "exact" else "default") for e in excluded
            )
            if hit and not out:
                relevant.append(a["article_id"])
            elif hit or any(has_words(fields, s) for g in groups for p in g for s in p):
                confusers.append(a["article_id"])
        if (
            mode == "default"
            and fold(text) != unicodedata.normalize("NFC", text).lower()
            and len(groups) == 1
            and len(groups[0]) == 1
            and not excluded
        ):
            typed = " ".join(exact(w) for w in unicodedata.normalize("NFC", text).split())
            for aid in relevant:
                a = articles[aid - 5001]
                if contains([a["title"], a["sapo"], a["body"]], typed, "exact"):
                    first.append(aid)
            if len(first) == len(relevant):
                first = []
        if mode == "words":
            first = [
                aid
                for aid in relevant
                if contains(
                    [articles[aid - 5001][k] for k in ("title", "sapo", "body")],
                    groups[0][0][0],
                    "default",
                )
            ]
            if len(first) == len(relevant):
                first = []
        queries.append(
            {
                "id": qid,
                "query": text,
                "mode": mode,
                "kind": kind,
                "relevant": relevant,
                "must_not": confusers,
                "ranked_first": first,
                "note": note,
            }
        )
    with open(HERE / "articles.jsonl", "w", encoding="utf-8") as out:
        for a in articles:
            out.write(json.dumps(a, ensure_ascii=False) + "\n")
    (HERE / "queries.json").write_text(
        json.dumps(queries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
