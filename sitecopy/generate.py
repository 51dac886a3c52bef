"""A deterministic generator of a synthetic copy of a newspaper on the EPI CMS, of any size.

For tests and benchmarks: :func:`make_articles` invents ``n`` articles (synthetic
Vietnamese built from the word lists and sentence templates below, written for this
project), :func:`render_article` renders one in the current EPI layout, and
:func:`write_site` writes a whole site copy (home page, paginated category pages, article
pages, robots.txt, a sitemap index with monthly child sitemaps, an RSS feed) that
:func:`sitecopy.serve_site` can serve. The markup follows the bundled copy
under ``site/`` class for class.

Which paper is written is a :class:`PaperSpec`: origin, names, picture host, sections and
every URL form (article, section, pagination, tag page, sitemaps, feed). The default is
:data:`BAOLAOCAI` (baolaocai.vn, byte for byte what this module always wrote);
:data:`NUIMAY` is an invented sister paper on the same CMS with other URL forms. An
article carries its paper's spec, so :func:`render_article` and :func:`write_site` need
no other argument.

Same arguments, same bytes: every choice comes from ``random.Random(seed)`` or from the
article itself, never from the clock.

Example::

    articles = make_articles(200, seed=7)
    write_site(Path("/tmp/site"), articles, revisions={articles[-1].article_id: 1})
    sister = make_articles(24, seed=3, spec=NUIMAY)

The bundled copy of the sister paper (``sitecopy/sites/nuimay``) is regenerated with
``python -m sitecopy.generate --paper nuimay --out sitecopy/sites/nuimay``.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import unicodedata
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

__all__ = [
    "BAOLAOCAI",
    "BUNDLE",
    "CATEGORIES",
    "DOICHE",
    "NUIMAY",
    "PAPERS",
    "SITE_URL",
    "Bundle",
    "GeneratedArticle",
    "PaperSpec",
    "make_articles",
    "modified_at",
    "paper_spec",
    "render_article",
    "revised_paragraphs",
    "slugify",
    "strip_accents",
    "write_site",
]

SITE_URL = "https://baolaocai.vn"
CDN_URL = "https://cdn.baolaocai.vn/images"
SITE_NAME = "Báo Lào Cai"

try:
    VN_TZ: timezone | ZoneInfo = ZoneInfo("Asia/Ho_Chi_Minh")
except Exception:  # pragma: no cover - systems without tzdata
    VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")

CATEGORIES: tuple[tuple[str, str], ...] = (
    ("thoi-su", "Thời sự"),
    ("kinh-te", "Kinh tế"),
    ("van-hoa-du-lich", "Văn hóa - Du lịch"),
    ("xa-hoi", "Xã hội"),
    ("bien-gioi", "Biên giới"),
)
"""``(slug, name)`` of the five sections, in menu order, exactly as on the bundled site."""

CATEGORY_TOPICS: dict[str, tuple[str, ...]] = {
    "thoi-su": ("admin",),
    "kinh-te": ("agri", "trade"),
    "van-hoa-du-lich": ("tourism", "culture"),
    "xa-hoi": ("education", "health"),
    "bien-gioi": ("border", "trade"),
}
MERGER_DAY = date(2025, 7, 1)
"""Lào Cai and Yên Bái became one province: former Yên Bái places appear only after it."""

HOME_COUNT = 20
RSS_COUNT = 20
PLACEHOLDER_GIF = "data:image/gif;base64,R0lGODlhAQABAAAAACw="

# -- word lists ---------------------------------------------------------------------------------

LAO_CAI_PLACES = (
    "Sa Pa",
    "Bắc Hà",
    "Bát Xát",
    "Mường Khương",
    "Si Ma Cai",
    "Văn Bàn",
    "Bảo Yên",
    "Bảo Thắng",
    "Y Tý",
    "Bản Lầu",
    "Tả Van",
    "Phong Hải",
    "Cốc San",
    "Mường Hum",
)
YEN_BAI_PLACES = (
    "Mù Cang Chải",
    "Trạm Tấu",
    "Văn Chấn",
    "Nghĩa Lộ",
    "Lục Yên",
    "Suối Giàng",
    "Khau Phạ",
)
BORDER_PLACES = ("Bát Xát", "Mường Khương", "Y Tý", "Bản Lầu", "Si Ma Cai", "A Mú Sung", "Pha Long")
GATES = (
    "cửa khẩu Kim Thành",
    "cửa khẩu Lào Cai",
    "cửa khẩu Bản Vược",
    "cửa khẩu Mường Khương",
)
CROPS = (
    "chè Shan tuyết",
    "quế",
    "mận tam hoa",
    "lê",
    "thảo quả",
    "chuối",
    "dứa",
    "su su",
    "dược liệu",
    "lúa nếp",
    "ngô hàng hóa",
    "rau an toàn",
)
ETHNICS = ("Mông", "Dao", "Tày", "Giáy", "Hà Nhì", "Thái", "Nùng", "Phù Lá", "Xá Phó", "Bố Y")
SIGHTS = (
    "lúa chín trên ruộng bậc thang",
    "hoa tam giác mạch",
    "hoa mận trắng",
    "hoa đào rừng",
    "biển mây trắng",
    "hoa sơn tra",
    "thác nước mùa hè",
)
FESTIVALS = (
    "lễ hội Gầu Tào",
    "lễ cúng rừng",
    "lễ hội Roóng Poọc",
    "Tết Nhảy",
    "lễ cấp sắc",
    "lễ hội Xuống đồng",
)
VILLAGES = (
    "Sín Chải",
    "Lùng Phìn",
    "Nậm Cang",
    "Lao Chải",
    "Pả Vi",
    "Ngải Thầu",
    "Séo Mý Tỷ",
    "Hầu Thào",
    "Nậm Khánh",
    "Lủ Khấu",
    "Tả Thàng",
    "Na Hối",
    "Làng Mô",
    "Khe Sang",
)
ORGS = (
    "Sở Nông nghiệp và Môi trường",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Bộ đội Biên phòng tỉnh",
    "Hội Nông dân tỉnh",
    "Ủy ban nhân dân xã",
    "Sở Công Thương",
    "Ban Dân tộc tỉnh",
    "Hội Liên hiệp Phụ nữ tỉnh",
)
PERIODS = ("quý I", "6 tháng đầu năm", "9 tháng đầu năm", "dịp nghỉ lễ", "mùa hè", "dịp Tết")

KINH_FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Lương", "Hà")
KINH_MALE = (
    ("Văn", "Đức", "Minh", "Quốc", "Thanh", "Tiến"),
    ("Hùng", "Dũng", "Tuấn", "Sơn", "Long", "Phong", "Thắng", "Hiếu", "Quang", "Khánh"),
)
KINH_FEMALE = (
    ("Thị", "Thu", "Ngọc", "Hồng", "Thanh", "Kim"),
    ("Mai", "Lan", "Hoa", "Hằng", "Trang", "Hương", "Yến", "Nga", "Thảo", "Linh"),
)
HILL_FAMILY = ("Giàng", "Sùng", "Vàng", "Thào", "Lý", "Hầu", "Lù", "Tẩn", "Chảo", "Sần", "Lò")
HILL_MALE = (("A", "Seo", "Láo", "Văn"), ("Chứ", "Páo", "Lử", "Dính", "Sử", "Pao", "Chá", "Tỏa"))
HILL_FEMALE = (("Thị", "Sử", "Mẩy"), ("Dợ", "Súa", "Mỷ", "Mai", "Dua", "Chu", "Lai"))
ROLES_M = (
    "Trưởng thôn {village}",
    "Chủ tịch UBND xã {place}",
    "Bí thư Chi bộ thôn {village}",
    "Giám đốc hợp tác xã ở {place}",
    "một hộ dân ở thôn {village}",
    "người có uy tín ở thôn {village}",
)
ROLES_F = (
    "Chủ tịch Hội Phụ nữ xã {place}",
    "thành viên hợp tác xã ở {place}",
    "một hộ dân ở thôn {village}",
    "Phó Chủ tịch UBND xã {place}",
)

GENERIC_SENTENCES = (
    "Theo lãnh đạo địa phương, thời gian qua {place} đã tập trung huy động mọi nguồn lực, "
    "lồng ghép các chương trình mục tiêu quốc gia để tạo chuyển biến rõ nét ở cơ sở.",
    "Chia sẻ với phóng viên, {person} cho biết người dân rất phấn khởi khi được tham gia bàn "
    "bạc, quyết định những việc thiết thực gắn với cuộc sống hằng ngày của thôn, bản.",
    "Bên cạnh những kết quả đạt được, địa phương vẫn còn không ít khó khăn như địa hình chia "
    "cắt, giao thông chưa thuận lợi và trình độ sản xuất của một bộ phận người dân còn hạn chế.",
    "Trong thời gian tới, {org} sẽ tiếp tục phối hợp chặt chẽ với các xã, phường để tháo gỡ "
    "vướng mắc, hướng dẫn người dân triển khai hiệu quả các mục tiêu đã đề ra.",
    "Từ đầu năm {year} đến nay, các ngành chức năng đã tổ chức {num} lượt kiểm tra, hướng dẫn "
    "tại cơ sở, kịp thời ghi nhận những đề xuất chính đáng của người dân.",
    "Nhiều hộ gia đình ở {place} đã mạnh dạn thay đổi cách nghĩ, cách làm, chủ động học hỏi "
    "kinh nghiệm từ các mô hình hiệu quả ở những địa phương lân cận.",
    "Để đạt được kết quả này, cấp ủy, chính quyền địa phương đã kiên trì tuyên truyền, vận "
    "động, lấy người dân làm trung tâm trong mọi chủ trương, chính sách.",
    "Theo thống kê của {org}, tổng kinh phí huy động cho các hoạt động này trong năm {year} "
    "đạt khoảng {money} tỉ đồng, trong đó phần lớn do người dân và doanh nghiệp đóng góp.",
    "Những con số trên cho thấy sự vào cuộc quyết liệt của cả hệ thống chính trị cũng như sự "
    "đồng thuận ngày càng cao của người dân các dân tộc trên địa bàn.",
    "{person} bày tỏ mong muốn các cấp, các ngành tiếp tục quan tâm hỗ trợ để bà con có thêm "
    "điều kiện ổn định cuộc sống, yên tâm phát triển sản xuất.",
    "Ghi nhận thực tế tại {place} cho thấy, diện mạo nhiều thôn, bản đã thay đổi rõ rệt với "
    "đường bê tông đến tận ngõ, nhà văn hóa khang trang và điện lưới phủ khắp.",
    "Đại diện {org} đánh giá cao tinh thần chủ động, sáng tạo của cơ sở, đồng thời đề nghị "
    "tiếp tục rà soát, khắc phục những tồn tại, hạn chế đã được chỉ ra.",
    "Với những bước đi phù hợp, {place} đặt mục tiêu đến năm {year_next} sẽ hoàn thành các "
    "chỉ tiêu chủ yếu, góp phần cùng toàn tỉnh thực hiện thắng lợi nghị quyết đại hội.",
    "Không chỉ dừng lại ở đó, nhiều thôn còn xây dựng hương ước mới, đưa các nội dung về bảo "
    "vệ môi trường và giữ gìn an ninh trật tự vào sinh hoạt cộng đồng.",
    "Mỗi khi có việc chung, người dân trong thôn lại cùng nhau góp công, góp sức, người ít thì "
    "vài ngày công, người nhiều thì hiến cả đất để làm đường, dựng nhà văn hóa.",
    "Những năm gần đây, đời sống vật chất và tinh thần của đồng bào {ethnic} ở {place} từng "
    "bước được nâng lên, tỉ lệ hộ nghèo giảm bình quân {pct_small} mỗi năm.",
    "Công tác kiểm tra, giám sát được duy trì thường xuyên, bảo đảm các nguồn vốn hỗ trợ đến "
    "đúng đối tượng, phát huy hiệu quả và không để xảy ra thất thoát, lãng phí.",
    "Thời tiết ở vùng cao thường diễn biến phức tạp, mưa lớn kéo dài có thể gây sạt lở, vì "
    "vậy các lực lượng luôn chủ động phương án ứng phó, sẵn sàng hỗ trợ người dân.",
    "Theo {person}, điều quan trọng nhất là làm cho người dân hiểu, tin và tự giác thực hiện, "
    "bởi khi bà con đã đồng lòng thì việc khó mấy cũng có thể làm được.",
    "Trao đổi bên lề buổi làm việc, {person} nhấn mạnh yêu cầu bám sát cơ sở, nắm chắc tâm "
    "tư, nguyện vọng của người dân để có giải pháp sát với thực tế.",
    "Thời gian tới, địa phương sẽ tiếp tục tranh thủ các nguồn lực hỗ trợ, đồng thời phát huy "
    "nội lực trong nhân dân để giữ vững những kết quả đã đạt được một cách bền vững.",
    "Từ những mô hình ban đầu, phong trào đã lan tỏa rộng khắp, trở thành nét đẹp trong đời "
    "sống cộng đồng ở nhiều thôn, bản vùng cao của tỉnh.",
    "Con đường vào trung tâm xã giờ đã được cứng hóa, xe tải có thể vào tận nơi, giúp việc vận "
    "chuyển hàng hóa và đi lại của bà con thuận tiện hơn nhiều so với trước.",
    "Nhìn những thay đổi của quê hương, {person} không giấu được niềm vui, bởi chỉ mấy năm "
    "trước, cuộc sống của nhiều gia đình nơi đây còn vô cùng vất vả.",
)
MERGER_SENTENCES = (
    "Sau khi hai tỉnh Lào Cai và Yên Bái hợp nhất, nhiều cách làm hay của mỗi địa phương đã "
    "được chia sẻ, nhân rộng, tạo thêm động lực cho các xã vùng cao phát triển.",
    "Chính quyền địa phương hai cấp vận hành ổn định giúp các thủ tục của người dân ở {place} "
    "được giải quyết ngay tại xã, không còn phải đi lại nhiều lần như trước.",
)

TOPIC_SENTENCES: dict[str, tuple[str, ...]] = {
    "agri": (
        "Năm nay, toàn {place} có khoảng {ha} ha {crop}, tăng {num_small} ha so với năm trước, "
        "tập trung chủ yếu ở các thôn có điều kiện đất đai, khí hậu phù hợp.",
        "Nhờ áp dụng đúng quy trình kỹ thuật, năng suất {crop} bình quân đạt {yield_t} tấn/ha, "
        "giá bán tại vườn ổn định nên người trồng có lãi khá.",
        "Gia đình {person} hiện có {num_small} sào {crop}, mỗi vụ thu về trên {money} triệu "
        "đồng, đủ trang trải chi tiêu và cho các con ăn học đầy đủ.",
        "Hợp tác xã đã ký hợp đồng bao tiêu sản phẩm với doanh nghiệp, giúp bà con yên tâm sản "
        "xuất mà không còn lo cảnh được mùa mất giá như những năm trước.",
        "Cán bộ khuyến nông thường xuyên xuống tận ruộng, vườn để hướng dẫn bà con cách bón "
        "phân, phòng trừ sâu bệnh và ghi chép nhật ký sản xuất theo tiêu chuẩn.",
        "Hiện nay, sản phẩm {crop} của {place} đã được cấp mã số vùng trồng, có tem truy xuất "
        "nguồn gốc và được giới thiệu trên nhiều sàn thương mại điện tử.",
        "Vào những ngày cao điểm thu hoạch, mỗi ngày có hàng chục xe tải về tận thôn để thu mua "
        "{crop}, không khí lao động trên các nương, đồi vô cùng tất bật.",
        "Ngành nông nghiệp khuyến cáo người dân không chạy theo phong trào mở rộng diện tích ồ ạt "
        "mà cần chú trọng nâng cao chất lượng và xây dựng thương hiệu cho sản phẩm.",
        "Từ một cây trồng truyền thống, {crop} đang dần trở thành cây chủ lực giúp nhiều hộ "
        "đồng bào {ethnic} ở {place} thoát nghèo và vươn lên khá giả.",
        "Bên cạnh trồng trọt, nhiều hộ còn phát triển chăn nuôi trâu, bò, lợn đen bản địa theo "
        "hướng hàng hóa, tận dụng phụ phẩm nông nghiệp để giảm chi phí thức ăn.",
        "Để nâng cao giá trị, một số hợp tác xã đã đầu tư dây chuyền sơ chế, đóng gói, sấy khô, "
        "đưa sản phẩm vào các chuỗi siêu thị và cửa hàng đặc sản ở Hà Nội.",
        "Những năm gần đây, thời tiết cực đoan gây không ít khó khăn, song nhờ chủ động chuyển "
        "đổi giống và lịch thời vụ, sản lượng {crop} vẫn giữ được ổn định.",
        "Nhiều sản phẩm {crop} của địa phương đã đạt chứng nhận OCOP từ 3 sao trở lên, mở ra cơ "
        "hội tiếp cận thị trường rộng lớn hơn cho người sản xuất.",
    ),
    "trade": (
        "Từ đầu năm đến nay, tổng kim ngạch xuất nhập khẩu qua {gate} ước đạt {money_usd} triệu "
        "USD, tăng {pct} so với cùng kỳ năm trước.",
        "Mặt hàng xuất khẩu chủ yếu là thanh long, chuối, sầu riêng, mít và các loại nông sản "
        "khác, trong khi hàng nhập khẩu chủ yếu là máy móc, phân bón và nguyên liệu sản xuất.",
        "Trung bình mỗi ngày có khoảng {num} phương tiện chở hàng làm thủ tục xuất nhập khẩu tại "
        "{gate}, thời gian thông quan đã được rút ngắn đáng kể.",
        "Lực lượng chức năng tại cửa khẩu bố trí cán bộ làm việc cả ngày nghỉ, ngoài giờ hành "
        "chính khi có yêu cầu, hạn chế tối đa tình trạng ùn ứ hàng hóa.",
        "Việc ứng dụng nền tảng cửa khẩu số giúp doanh nghiệp khai báo trực tuyến, theo dõi lộ "
        "trình phương tiện và giảm đáng kể chi phí đi lại, lưu kho.",
        "Đại diện một doanh nghiệp xuất nhập khẩu cho biết, thủ tục tại {gate} hiện nhanh gọn "
        "hơn nhiều, hàng hóa có thể thông quan ngay trong ngày.",
        "Tỉnh đang kiến nghị nâng cấp hạ tầng bến bãi, mở rộng khu kiểm hóa tập trung để đáp "
        "ứng lượng hàng ngày càng tăng qua các cửa khẩu trên địa bàn.",
        "Cư dân biên giới ở {place} cũng được hưởng lợi từ hoạt động thương mại, nhiều người "
        "tham gia bốc xếp, vận chuyển hoặc mở dịch vụ ăn uống, lưu trú phục vụ lái xe.",
        "Cơ quan hải quan khuyến cáo doanh nghiệp cập nhật đầy đủ các quy định mới của thị "
        "trường nhập khẩu về mã số vùng trồng, bao gói và truy xuất nguồn gốc.",
        "Cùng với xuất khẩu chính ngạch, hoạt động trao đổi hàng hóa của cư dân biên giới tại "
        "các chợ đường biên diễn ra sôi động, đúng quy định.",
        "Trong năm {year}, tuyến đường sắt liên vận tiếp tục phát huy vai trò quan trọng, vận "
        "chuyển khối lượng lớn phân bón, hóa chất và quặng qua ga quốc tế Lào Cai.",
    ),
    "tourism": (
        "Những ngày này, {place} đón lượng khách tăng cao, các khách sạn, nhà nghỉ và homestay ở "
        "khu trung tâm gần như kín phòng vào dịp cuối tuần.",
        "Đến {place} mùa này, du khách có dịp ngắm {sight}, thưởng thức ẩm thực vùng cao và tìm "
        "hiểu phong tục, tập quán của đồng bào {ethnic}.",
        "Từ đầu năm {year}, {place} đã đón khoảng {big} lượt khách, doanh thu từ du lịch ước đạt "
        "{money} tỉ đồng, tăng {pct} so với cùng kỳ.",
        "Chị {name_f}, chủ một homestay ở thôn {village}, cho biết gia đình đã cải tạo thêm "
        "phòng nghỉ, học thêm tiếng Anh để giao tiếp với khách nước ngoài.",
        "Nhiều du khách đến từ Hà Nội, Thành phố Hồ Chí Minh và cả khách quốc tế đã lựa chọn "
        "những cung đường đi bộ xuyên qua các bản làng để trải nghiệm.",
        "Để giữ chân du khách, địa phương khuyến khích người dân giữ nguyên kiến trúc nhà truyền "
        "thống, tổ chức biểu diễn văn nghệ và giới thiệu các món ăn đặc sản.",
        "Hướng dẫn viên người địa phương dẫn khách đi qua những thửa ruộng bậc thang, rừng thảo "
        "quả và thác nước, kể về cuộc sống thường ngày của người dân bản.",
        "Ngành du lịch khuyến cáo du khách theo dõi thông tin thời tiết, chuẩn bị trang phục phù "
        "hợp và lựa chọn cơ sở lưu trú đã được cấp phép khi đến vùng cao.",
        "Một số điểm ngắm cảnh mới được đầu tư bài bản với chòi nghỉ, bãi đỗ xe và nhà vệ sinh "
        "sạch sẽ, góp phần nâng cao trải nghiệm của du khách.",
        "Các sản phẩm du lịch đêm như chợ đêm, biểu diễn nghệ thuật dân gian và lửa trại ở "
        "{place} đang thu hút sự quan tâm của đông đảo khách trẻ.",
        "Không ít du khách bày tỏ ấn tượng trước vẻ đẹp hoang sơ của núi rừng và sự thân thiện, "
        "mến khách của người dân nơi đây.",
        "Theo đánh giá của ngành văn hóa và du lịch, du lịch cộng đồng đang mở ra hướng đi bền "
        "vững, giúp người dân có thêm sinh kế ngay trên chính quê hương mình.",
    ),
    "culture": (
        "Lễ hội năm nay được tổ chức theo đúng nghi thức truyền thống, với phần lễ trang nghiêm "
        "và phần hội sôi nổi gồm đẩy gậy, ném pao, kéo co và thi hát giao duyên.",
        "Nghệ nhân {name_m} năm nay đã ngoài bảy mươi tuổi nhưng vẫn ngày ngày truyền dạy cho "
        "lớp trẻ những làn điệu dân ca, cách thổi khèn và ý nghĩa của từng nghi lễ.",
        "Trong mỗi nếp nhà của đồng bào {ethnic}, những bộ trang phục truyền thống được cất giữ "
        "cẩn thận và chỉ mặc vào các dịp lễ, Tết quan trọng.",
        "Câu lạc bộ văn nghệ dân gian của thôn {village} hiện có {num_small} thành viên, phần "
        "lớn là phụ nữ và thanh niên, sinh hoạt đều đặn vào tối thứ Bảy hằng tuần.",
        "Việc sưu tầm, tư liệu hóa các di sản văn hóa phi vật thể của đồng bào các dân tộc đang "
        "được ngành văn hóa triển khai bài bản, có sự tham gia của chính cộng đồng.",
        "Nghề thêu thổ cẩm, dệt lanh không chỉ giữ gìn bản sắc mà còn đem lại thu nhập ổn định "
        "cho nhiều phụ nữ khi sản phẩm được du khách ưa chuộng.",
        "Trong không gian chợ phiên, tiếng khèn, tiếng sáo hòa cùng sắc màu rực rỡ của những bộ "
        "váy áo tạo nên bức tranh văn hóa độc đáo của vùng cao.",
        "Các trường học trên địa bàn cũng đưa nội dung giáo dục di sản vào hoạt động ngoại khóa, "
        "giúp học sinh hiểu và tự hào về văn hóa dân tộc mình.",
        "Theo các cụ cao niên trong bản, {festival} là dịp để con cháu tưởng nhớ tổ tiên, cầu "
        "cho mưa thuận gió hòa, mùa màng bội thu và bản làng bình yên.",
        "Nhiều gia đình đã mở xưởng nhỏ sản xuất đồ thủ công, nhạc cụ dân tộc, vừa phục vụ nhu "
        "cầu trong bản vừa bán cho khách du lịch.",
        "Lãnh đạo ngành văn hóa khẳng định sẽ tiếp tục hỗ trợ các nghệ nhân, câu lạc bộ để bản "
        "sắc văn hóa các dân tộc được gìn giữ và phát huy trong đời sống hôm nay.",
    ),
    "education": (
        "Năm học {school_year}, toàn {place} có hơn {big} học sinh ở các cấp học, trong đó học "
        "sinh dân tộc thiểu số chiếm trên {pct_big}.",
        "Những ngày đầu năm học, thầy cô giáo ở các điểm trường lẻ đã đến từng nhà vận động, bảo "
        "đảm không để học sinh nào bỏ học giữa chừng.",
        "Bữa ăn bán trú được nâng cao chất lượng với đủ thịt, cá, rau xanh, nhiều trường còn tận "
        "dụng đất trống để trồng rau, cải thiện thêm cho các em.",
        "Cô giáo {name_f} đã có hơn mười năm gắn bó với điểm trường {village}, mỗi tuần đều vượt "
        "quãng đường đồi dốc để đến lớp.",
        "Hệ thống phòng học bộ môn, thư viện và thiết bị dạy học được đầu tư đồng bộ, giúp giáo "
        "viên đổi mới phương pháp, học sinh hứng thú hơn với từng tiết học.",
        "Nhờ được tăng cường tiếng Việt từ lớp mẫu giáo, học sinh người {ethnic} khi vào lớp 1 "
        "đã tự tin giao tiếp và tiếp thu bài nhanh hơn.",
        "Ngành giáo dục đặt mục tiêu tiếp tục sắp xếp mạng lưới trường lớp hợp lý, xóa phòng "
        "học tạm và nâng tỉ lệ trường đạt chuẩn quốc gia trong những năm tới.",
        "Nhiều học sinh vùng cao của {place} đã đạt giải trong các kỳ thi học sinh giỏi cấp "
        "tỉnh, minh chứng rõ nét cho sự đổi thay của giáo dục nơi đây.",
        "Các nhà hảo tâm, doanh nghiệp và lực lượng vũ trang cũng chung tay trao tặng áo ấm, "
        "chăn màn, sách vở cho học sinh trước mùa đông giá rét.",
        "Hội phụ huynh đánh giá cao sự tận tâm của đội ngũ giáo viên, đồng thời cam kết phối hợp "
        "với nhà trường để chăm lo việc học của con em.",
    ),
    "health": (
        "Trong đợt khám lần này, các y, bác sĩ đã khám, tư vấn sức khỏe và cấp thuốc miễn phí "
        "cho {num} người dân, chủ yếu là người cao tuổi và trẻ em.",
        "Trạm y tế xã đã được bố trí bác sĩ thường trực, trang bị máy siêu âm, máy xét nghiệm cơ "
        "bản, giúp người dân không phải đi xa khi ốm đau.",
        "Qua khám sàng lọc, nhiều trường hợp tăng huyết áp, đái tháo đường được phát hiện sớm và "
        "đưa vào quản lý, điều trị ngoại trú tại tuyến xã.",
        "Nhân viên y tế thôn, bản thường xuyên đến từng hộ gia đình tuyên truyền về vệ sinh môi "
        "trường, nước sạch và cách phòng chống các bệnh truyền nhiễm.",
        "Tỉ lệ trẻ em dưới một tuổi được tiêm chủng đầy đủ các loại vắc xin trên địa bàn {place} "
        "năm nay đạt trên {pct_big}, cao hơn so với năm trước.",
        "Bác sĩ {name_m}, Giám đốc Trung tâm Y tế khu vực, cho biết đơn vị đã chủ động dự trữ "
        "thuốc, hóa chất và phân công các đội cơ động sẵn sàng hỗ trợ cơ sở.",
        "Việc triển khai hồ sơ sức khỏe điện tử và khám chữa bệnh bằng căn cước giúp rút ngắn "
        "thời gian chờ đợi, người bệnh hài lòng hơn.",
        "Nhiều phụ nữ mang thai ở vùng sâu đã được cô đỡ thôn bản hướng dẫn đi khám thai định kỳ "
        "và sinh con tại cơ sở y tế để bảo đảm an toàn.",
        "Bên cạnh đó, các bệnh viện tuyến tỉnh thường xuyên cử bác sĩ về hỗ trợ chuyên môn, "
        "chuyển giao kỹ thuật, nâng cao năng lực cho y tế tuyến cơ sở.",
        "Người dân được khuyến cáo không tự ý dùng thuốc, khi có dấu hiệu bất thường về sức khỏe "
        "cần đến ngay cơ sở y tế gần nhất để được thăm khám.",
    ),
    "border": (
        "Đồn Biên phòng {place} hiện quản lý, bảo vệ hơn {km} km đường biên giới với "
        "{num_small} cột mốc, địa hình chủ yếu là núi cao, suối sâu.",
        "Cán bộ, chiến sĩ thường xuyên phối hợp với tổ tự quản và người dân tuần tra, kiểm soát, "
        "kịp thời phát hiện và xử lý các hành vi vi phạm quy chế biên giới.",
        "Thiếu tá {name_m}, Đồn trưởng, cho biết đơn vị luôn coi người dân là những cột mốc "
        "sống, là tai mắt của bộ đội nơi biên cương.",
        "Chương trình Nâng bước em tới trường đã giúp hàng chục học sinh nghèo ở các xã biên "
        "giới có điều kiện tiếp tục đến lớp.",
        "Dịp cuối năm, bộ đội biên phòng tổ chức gói bánh chưng, tặng quà cho các hộ nghèo, gia "
        "đình chính sách, mang Tết ấm đến với đồng bào vùng biên.",
        "Hằng năm, các đơn vị tổ chức tuần tra song phương với lực lượng quản lý biên giới nước "
        "bạn, góp phần xây dựng đường biên giới hòa bình, hữu nghị.",
        "Mô hình Dân vận khéo của bộ đội biên phòng đã giúp nhiều hộ dân ở {place} chuyển đổi "
        "cây trồng, vật nuôi, có thu nhập ổn định.",
        "Nhờ làm tốt công tác tuyên truyền, người dân vùng biên đã nâng cao ý thức chấp hành "
        "pháp luật, không tiếp tay cho các hoạt động xuất nhập cảnh trái phép.",
        "Những căn nhà Đại đoàn kết do bộ đội biên phòng và các tổ chức đoàn thể hỗ trợ xây dựng "
        "đã giúp nhiều gia đình yên tâm lao động, sản xuất.",
        "Ngày hội Biên phòng toàn dân là dịp để tôn vinh những đóng góp của các tập thể, cá nhân "
        "trong xây dựng nền biên phòng toàn dân vững mạnh.",
    ),
    "admin": (
        "Tại kỳ họp, các đại biểu đã tập trung thảo luận, cho ý kiến vào các báo cáo, tờ trình "
        "và dự thảo nghị quyết với tinh thần trách nhiệm cao.",
        "Năm {year}, tốc độ tăng trưởng kinh tế của tỉnh ước đạt {pct}, thu ngân sách nhà nước "
        "trên địa bàn vượt dự toán được giao.",
        "Tỉ lệ hồ sơ thủ tục hành chính được giải quyết đúng và trước hạn đạt trên {pct_big}, "
        "mức độ hài lòng của người dân và doanh nghiệp tiếp tục được cải thiện.",
        "Bộ phận một cửa của xã {place} được bố trí khang trang, có máy tính hỗ trợ người dân "
        "nộp hồ sơ trực tuyến và tra cứu tiến độ giải quyết.",
        "Lãnh đạo tỉnh yêu cầu các sở, ngành và địa phương khẩn trương tháo gỡ vướng mắc trong "
        "giải phóng mặt bằng, đẩy nhanh tiến độ các công trình trọng điểm.",
        "Cử tri {place} kiến nghị quan tâm đầu tư hệ thống nước sinh hoạt, nâng cấp đường giao "
        "thông nông thôn và hỗ trợ giống cây trồng cho bà con.",
        "Kết luận hội nghị, đồng chí lãnh đạo tỉnh đề nghị các đơn vị phát huy tinh thần đoàn "
        "kết, dám nghĩ, dám làm, không để công việc bị chậm trễ, ách tắc.",
        "Công tác chuyển đổi số được đẩy mạnh ở tất cả các cấp, nhiều dịch vụ công trực tuyến "
        "toàn trình đã đi vào thực chất, giảm giấy tờ và thời gian đi lại.",
        "Đến nay, các dự án giao thông kết nối vùng đã hoàn thành khoảng {pct_big} khối lượng, "
        "nhiều hạng mục vượt tiến độ đề ra.",
        "Hội đồng nhân dân tỉnh cũng đã xem xét, thông qua các nghị quyết về chính sách hỗ trợ "
        "phát triển sản xuất nông nghiệp và đầu tư hạ tầng vùng cao.",
        "Các địa phương được yêu cầu chủ động rà soát các điểm có nguy cơ sạt lở, lũ quét, sẵn "
        "sàng di dời người dân đến nơi an toàn khi có mưa lớn.",
    ),
}

TITLES: dict[str, tuple[str, ...]] = {
    "agri": (
        "Nông dân {place} trúng mùa {crop}, thu nhập tăng",
        "{place} mở rộng vùng trồng {crop} theo hướng hữu cơ",
        "Đưa cơ giới hóa vào sản xuất {crop} ở {place}",
        "Hợp tác xã ở {place} liên kết tiêu thụ {crop}",
        "Vụ {crop} năm {year} ở {place}: được mùa, được giá",
        "Nhiều hộ dân {place} thoát nghèo nhờ trồng {crop}",
        "Đưa {crop} của {place} lên sàn thương mại điện tử",
        "Đồng bào {ethnic} ở {place} làm giàu từ cây {crop}",
        "Xây dựng thương hiệu cho sản phẩm {crop} {place}",
    ),
    "trade": (
        "Hoạt động xuất nhập khẩu qua {gate} sôi động {period}",
        "Kim ngạch xuất nhập khẩu qua {gate} tăng {pct} so với cùng kỳ",
        "Doanh nghiệp tận dụng luồng xanh để thông quan nông sản qua {gate}",
        "Số hóa thủ tục giúp hàng hóa qua {gate} thông quan nhanh hơn",
        "Nông sản tươi chiếm tỉ trọng lớn trong hàng xuất khẩu qua {gate}",
        "Mỗi ngày hơn {num} xe hàng làm thủ tục tại {gate}",
        "Cư dân {place} hưởng lợi từ thương mại qua {gate}",
        "Nâng cấp hạ tầng bến bãi tại {gate}, giảm ùn ứ hàng hóa",
    ),
    "tourism": (
        "Du khách đổ về {place} ngắm {sight}",
        "{place} phát triển du lịch cộng đồng gắn với văn hóa người {ethnic}",
        "Homestay ở {place} kín phòng {period}, doanh thu tăng mạnh",
        "Lượng khách đến {place} {period} tăng {pct} so với cùng kỳ",
        "Trải nghiệm chợ phiên {place}, nơi lưu giữ nét văn hóa vùng cao",
        "{place} đón khoảng {big} lượt khách {period}",
        "Mùa {sight} ở {place} hút khách",
        "Thôn {village} ở {place} làm du lịch từ nếp nhà truyền thống",
    ),
    "culture": (
        "Đặc sắc {festival} của đồng bào {ethnic} ở {place}",
        "Nghệ nhân {place} miệt mài truyền dạy nghề thêu thổ cẩm",
        "Gìn giữ tiếng khèn {ethnic} giữa nhịp sống hiện đại ở {place}",
        "Câu lạc bộ dân ca thôn {village} giữ gìn bản sắc văn hóa",
        "Phục dựng {festival} tại {place}, thu hút đông đảo du khách",
        "Rộn ràng {festival} ở thôn {village}, {place}",
        "Phụ nữ {ethnic} ở {place} giữ nghề dệt lanh truyền thống",
        "Đưa di sản văn hóa {ethnic} vào trường học ở {place}",
    ),
    "education": (
        "Học sinh vùng cao {place} hào hứng với mô hình lớp học thông minh",
        "Giáo viên cắm bản ở {place} vận động học sinh trở lại trường",
        "Nâng chất lượng bữa ăn bán trú cho học sinh vùng cao {place}",
        "{place} đầu tư xây mới phòng học, xóa dần điểm trường tạm",
        "Trao áo ấm, sách vở cho học sinh nghèo vùng cao {place}",
        "Điểm trường {village} ở {place} đón năm học {school_year}",
        "Tăng cường tiếng Việt cho học sinh người {ethnic} ở {place}",
        "{place} có {num_small} học sinh đạt giải học sinh giỏi cấp tỉnh",
    ),
    "health": (
        "Khám sàng lọc miễn phí cho hơn {num} người cao tuổi tại {place}",
        "Đưa bác sĩ về trạm y tế xã, người dân {place} yên tâm",
        "{place} tăng cường tiêm chủng mở rộng cho trẻ em vùng sâu, vùng xa",
        "Y tế cơ sở ở {place} chủ động phòng chống dịch bệnh mùa mưa",
        "Cô đỡ thôn bản ở {place} đồng hành cùng phụ nữ {ethnic}",
        "Trạm y tế xã {place} được đầu tư thêm trang thiết bị",
        "Hơn {num} người dân thôn {village} được cấp thuốc miễn phí",
    ),
    "border": (
        "Bộ đội Biên phòng giúp đồng bào {place} xây nhà, ổn định cuộc sống",
        "Tổ tự quản đường biên, cột mốc ở {place} phát huy hiệu quả",
        "Ấm tình quân dân nơi vùng biên {place} {period}",
        "Đồn Biên phòng {place} đồng hành cùng học sinh nghèo đến trường",
        "Tuần tra song phương, giữ vững an ninh biên giới tại {place}",
        "Người dân thôn {village} chung tay bảo vệ cột mốc biên giới",
        "Mô hình Dân vận khéo giúp đồng bào {ethnic} ở {place} thoát nghèo",
        "Ngày hội Biên phòng toàn dân ấm áp ở {place}",
    ),
    "admin": (
        "{place} đẩy mạnh cải cách hành chính, phục vụ người dân tốt hơn",
        "Lãnh đạo tỉnh kiểm tra tiến độ các công trình trọng điểm tại {place}",
        "Hội đồng nhân dân tỉnh thông qua {num_small} nghị quyết tại kỳ họp",
        "Cử tri {place} kiến nghị nhiều vấn đề thiết thực trước kỳ họp",
        "Đẩy nhanh giải ngân vốn đầu tư công {period} năm {year}",
        "{place} khắc phục hậu quả mưa lũ, sớm ổn định đời sống người dân",
        "Khởi công đường nối trung tâm xã {place} với thôn {village}",
        "Bộ phận một cửa xã {place} giải quyết hồ sơ đúng hạn đạt {pct_big}",
    ),
}

TITLE_TAILS: dict[str, tuple[str, ...]] = {
    "agri": (" năm {year}", ", nông dân phấn khởi"),
    "trade": (" năm {year}", ", doanh nghiệp hưởng lợi"),
    "tourism": (" năm {year}", ", du khách thích thú", ", người dân có thêm thu nhập"),
    "culture": (" năm {year}",),
    "education": (" năm học {school_year}", ", phụ huynh yên tâm"),
    "health": (" năm {year}", ", người dân phấn khởi"),
    "border": (" năm {year}", ", vững chắc phên dậu vùng biên"),
    "admin": (" năm {year}", ", tạo chuyển biến rõ nét"),
}
"""Optional endings of a title (used when the title stays within 16 words)."""

SAPOS: dict[str, tuple[str, ...]] = {
    "agri": (
        "Năm {year}, diện tích {crop} ở {place} đạt khoảng {ha} ha, sản lượng và giá bán đều "
        "tăng so với năm trước.",
        "Nhờ liên kết sản xuất theo chuỗi, người trồng {crop} ở {place} đã yên tâm mở rộng "
        "diện tích. Nhiều hộ có thu nhập hàng trăm triệu đồng mỗi năm.",
        "Những ngày này, bà con các dân tộc ở {place} tất bật vào vụ thu hoạch {crop}.",
    ),
    "trade": (
        "Từ đầu năm {year}, hàng hóa qua {gate} tăng cả về khối lượng và giá trị, thời gian "
        "thông quan được rút ngắn.",
        "Mỗi ngày có hàng trăm phương tiện chở nông sản làm thủ tục tại {gate}. Lực lượng chức "
        "năng đã bố trí làm việc ngoài giờ để tránh ùn ứ.",
    ),
    "tourism": (
        "Mùa {sight}, {place} đón lượng khách tăng cao, nhiều cơ sở lưu trú kín phòng vào dịp "
        "cuối tuần.",
        "Du lịch cộng đồng đang mở ra hướng đi mới cho đồng bào {ethnic} ở {place}. Nhiều gia "
        "đình đã có thu nhập ổn định từ dịch vụ homestay.",
    ),
    "culture": (
        "Giữa nhịp sống hiện đại, đồng bào {ethnic} ở {place} vẫn gìn giữ những nét văn hóa "
        "truyền thống đặc sắc.",
        "Năm {year}, {festival} ở {place} được tổ chức với nhiều hoạt động sôi nổi, thu hút đông "
        "đảo người dân và du khách.",
    ),
    "education": (
        "Năm học mới, ngành giáo dục {place} tiếp tục quan tâm nâng cao chất lượng dạy học ở "
        "các điểm trường vùng cao.",
        "Vượt qua nhiều khó khăn, thầy và trò ở {place} đã đạt được nhiều kết quả đáng ghi "
        "nhận. Tỉ lệ học sinh đi học đúng độ tuổi tiếp tục tăng.",
    ),
    "health": (
        "Hơn {num} người dân {place} đã được khám sức khỏe, tư vấn và cấp thuốc miễn phí trong "
        "đợt khám vừa qua.",
        "Y tế cơ sở ở {place} từng bước được đầu tư trang thiết bị và bổ sung nhân lực. Người "
        "dân không còn phải đi xa để khám chữa bệnh.",
    ),
    "border": (
        "Cán bộ, chiến sĩ Đồn Biên phòng {place} luôn gắn bó, đồng hành cùng đồng bào các dân "
        "tộc nơi vùng biên.",
        "Phong trào toàn dân tham gia tự quản đường biên, cột mốc ở {place} ngày càng phát huy "
        "hiệu quả. Nhiều vụ việc vi phạm được phát hiện sớm.",
    ),
    "admin": (
        "Năm {year}, {place} tập trung thực hiện đồng bộ các giải pháp phát triển kinh tế - xã "
        "hội, nhiều chỉ tiêu đạt và vượt kế hoạch.",
        "Các đại biểu đã thảo luận, cho ý kiến vào nhiều nội dung quan trọng. Cử tri {place} "
        "kỳ vọng các chính sách sớm đi vào cuộc sống.",
    ),
}

CAPTIONS: dict[str, tuple[str, ...]] = {
    "agri": (
        "Người dân {place} thu hoạch {crop}.",
        "Cán bộ khuyến nông hướng dẫn bà con chăm sóc {crop}.",
        "Sản phẩm {crop} được sơ chế, đóng gói trước khi xuất bán.",
    ),
    "trade": (
        "Xe chở nông sản làm thủ tục thông quan tại {gate}.",
        "Cán bộ hải quan kiểm tra hàng hóa xuất khẩu.",
    ),
    "tourism": (
        "Du khách chụp ảnh lưu niệm ở {place}.",
        "Một góc {place} mùa {sight}.",
        "Du khách trải nghiệm ẩm thực vùng cao.",
    ),
    "culture": (
        "Phụ nữ {ethnic} trong trang phục truyền thống.",
        "Nghệ nhân truyền dạy thổi khèn cho thanh niên trong bản.",
        "Phần thi kéo co tại {festival}.",
    ),
    "education": (
        "Giờ học của học sinh vùng cao {place}.",
        "Bữa ăn bán trú của học sinh dân tộc {ethnic}.",
    ),
    "health": (
        "Bác sĩ khám bệnh cho người cao tuổi ở {place}.",
        "Tiêm chủng cho trẻ em tại trạm y tế xã.",
    ),
    "border": (
        "Cán bộ, chiến sĩ biên phòng tuần tra đường biên.",
        "Bộ đội biên phòng giúp người dân {place} sửa nhà.",
    ),
    "admin": (
        "Quang cảnh hội nghị.",
        "Người dân làm thủ tục tại bộ phận một cửa xã {place}.",
    ),
}

GENERIC_CAPTIONS = (
    "Toàn cảnh {place} nhìn từ trên cao.",
    "Đường giao thông nông thôn ở {place} đã được bê tông hóa.",
    "Người dân {place} phấn khởi trước những đổi thay của quê hương.",
)

TOPIC_TAGS: dict[str, tuple[str, ...]] = {
    "agri": ("nông nghiệp", "nông sản", "hợp tác xã", "OCOP", "khuyến nông"),
    "trade": ("cửa khẩu", "xuất nhập khẩu", "thương mại biên giới", "hải quan"),
    "tourism": ("du lịch", "homestay", "du lịch cộng đồng", "ruộng bậc thang"),
    "culture": ("văn hóa", "lễ hội", "di sản", "thổ cẩm", "nghệ nhân"),
    "education": ("giáo dục", "học sinh", "bán trú", "năm học mới"),
    "health": ("y tế", "khám bệnh", "tiêm chủng", "y tế cơ sở"),
    "border": ("biên giới", "Bộ đội Biên phòng", "cột mốc", "dân vận khéo"),
    "admin": ("cải cách hành chính", "đầu tư công", "HĐND tỉnh", "chuyển đổi số"),
}

REVISION_SENTENCE = (
    "Bài viết được bổ sung thông tin, cập nhật lần thứ {revision} theo số liệu mới nhất của "
    "cơ quan chức năng."
)

# -- text helpers -------------------------------------------------------------------------------


def strip_accents(text: str) -> str:
    """``"Mù Cang Chải"`` -> ``"Mu Cang Chai"``; ``đ`` -> ``d``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_NON_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """Unaccented lowercase words joined by ``-``: ``"Y Tý vào mùa"`` -> ``"y-ty-vao-mua"``."""
    return _NON_SLUG_RE.sub("-", strip_accents(text).lower()).strip("-")


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _vn_int(n: int) -> str:
    """Vietnamese thousands separator: ``12500`` -> ``"12.500"``."""
    return f"{n:,}".replace(",", ".")


def _vn_dec(x: float) -> str:
    """One decimal with a comma: ``4.6`` -> ``"4,6"``."""
    return f"{x:.1f}".replace(".", ",")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# -- papers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperSpec:
    """One paper the generator can write: who it is and every URL form it uses.

    Path templates are ``str.format`` strings on the site's origin: ``{slug}``, ``{id}`` and
    ``{category}`` (a section's slug) for articles; ``{category}`` for a section's first
    page and ``{category}``, ``{page}`` for its next pages; ``{slug}``, ``{id}`` for a tag
    page; ``{month}`` (``YYYY-MM``) for a monthly sitemap. A path ending in ``/`` is written
    as ``index.html`` in that folder (as :class:`sitecopy.SiteServer` reads it).
    Everything else a page prints about its paper comes from here too; nothing in the
    renderers is specific to one paper.
    """

    key: str
    """The site file's key (``baolaocai/sites/<key>.toml``)."""
    origin: str
    """``https://host``: canonical URLs, JSON-LD, sitemaps and feed links."""
    name: str
    """Display name: logo, ``og:site_name``, the feed's title attribute."""
    cdn: str
    """Base URL of the pictures (``<cdn>/<digest>/<slug>-<k>.jpg``)."""
    image_salt: str
    """Mixed into each picture's digest, so two papers never share a picture URL."""
    categories: tuple[tuple[str, str], ...]
    """``(slug, name)`` of the sections, in menu order."""
    category_topics: tuple[tuple[str, tuple[str, ...]], ...]
    """``(slug, topics)``: the word-list topics (see TOPIC_SENTENCES) of each section."""
    article_path: str
    section_path: str
    pagination_path: str
    tag_path: str
    sitemap_index_path: str
    month_sitemap_path: str
    feed_path: str
    title_suffix: str
    """Appended to an article's or a listing's title in ``<title>``: ``" | Báo Lào Cai"``."""
    home_title: str
    feed_title: str
    feed_description: str
    publisher: str
    """The JSON-LD publisher (an Organization, never an author)."""
    footer_lines: tuple[str, ...]
    """The footer's paragraphs, HTML as printed."""
    first_id: int
    """The first article id :func:`make_articles` gives unless told otherwise."""
    menu_extra: tuple[tuple[str, str], ...] = (
        ("/video/", "Video"),
        ("/lien-he.html", "Liên hệ"),
    )
    """``(path, label)`` of menu links after the sections: pages that are not sections."""
    robots_disallow: tuple[str, ...] = ("/admin/", "/tim-kiem/")
    logo_path: str = "/images/logo.png"
    dateline: str | None = None
    """Printed before the sapo of articles published before :attr:`dateline_until`
    (``"NM"`` -> ``"NM - <sapo>"``); the sapo a parser should read stays without it."""
    dateline_until: date | None = None
    merger_day: date | None = MERGER_DAY
    """Former Yên Bái places and the merger sentences appear from this day on (None: never)."""

    def url(self, path: str) -> str:
        return self.origin + path

    def article_path_of(self, slug: str, article_id: int, category: str) -> str:
        return self.article_path.format(slug=slug, id=article_id, category=category)

    def section_path_of(self, category: str, page: int = 1) -> str:
        """A section's listing page ``page`` (1 = its first page)."""
        if page == 1:
            return self.section_path.format(category=category)
        return self.pagination_path.format(category=category, page=page)

    def tag_path_of(self, tag: str) -> str:
        tag_id = zlib.crc32(tag.encode()) % 9000 + 1000
        return self.tag_path.format(slug=slugify(tag), id=tag_id)

    def month_sitemap_path_of(self, month: str) -> str:
        return self.month_sitemap_path.format(month=month)

    def image_src(self, seed: int, article_id: int, slug: str, k: int) -> str:
        digest = hashlib.sha256(f"{self.image_salt}/{seed}/{article_id}/{k}".encode()).hexdigest()
        return f"{self.cdn}/{digest}/{slug}-{k}.jpg"

    def shown_sapo(self, sapo: str, published: datetime) -> str:
        """The sapo as the article page prints it (with the dateline on older articles)."""
        if self.dateline and self.dateline_until and published.date() < self.dateline_until:
            return f"{self.dateline} - {sapo}"
        return sapo


def file_of(path: str) -> str:
    """The file under a copy's root that serves a URL path (``/x/`` -> ``x/index.html``)."""
    rel = path.lstrip("/")
    return rel + "index.html" if not rel or rel.endswith("/") else rel


BAOLAOCAI = PaperSpec(
    key="baolaocai",
    origin=SITE_URL,
    name=SITE_NAME,
    cdn=CDN_URL,
    image_salt="baolaocai-synthetic",
    categories=CATEGORIES,
    category_topics=tuple(CATEGORY_TOPICS.items()),
    article_path="/{slug}-post{id}.html",
    section_path="/{category}/",
    pagination_path="/{category}/trang-{page}.html",
    tag_path="/tag/{slug}-{id}.html",
    sitemap_index_path="/sitemap.xml",
    month_sitemap_path="/sitemaps/{month}.xml",
    feed_path="/rss/home.rss",
    title_suffix=f" | {SITE_NAME}",
    home_title="Báo Lào Cai - Tin tức tỉnh Lào Cai",
    feed_title="Báo Lào Cai - Trang chủ",
    feed_description="Tin tức mới nhất của Báo Lào Cai",
    publisher=SITE_NAME,
    footer_lines=(
        "Báo Lào Cai - Cơ quan của Đảng bộ tỉnh Lào Cai",
        "Địa chỉ: số 1 đường Hoàng Liên, phường Cốc Lếu, tỉnh Lào Cai",
        "Đường dây nóng: 0214 0000 000",
        "Giấy phép số 00/GP-BTTTT do Bộ Thông tin và Truyền thông cấp",
        'Ghi rõ nguồn "Báo Lào Cai" khi phát hành lại thông tin từ website này.',
    ),
    first_id=910000,
)
"""baolaocai.vn, as the bundled copy under ``site/`` is: the default everywhere."""

NUIMAY = PaperSpec(
    key="nuimay",
    origin="https://nuimay.vn",
    name="Báo Núi Mây",
    cdn="https://static.nuimay.vn/anh",
    image_salt="nuimay-synthetic",
    categories=(
        ("thoi-su", "Thời sự"),
        ("kinh-te", "Kinh tế"),
        ("van-hoa", "Văn hóa"),
        ("du-lich", "Du lịch"),
        ("giao-duc-y-te", "Giáo dục - Y tế"),
    ),
    category_topics=(
        ("thoi-su", ("admin", "border")),
        ("kinh-te", ("agri", "trade")),
        ("van-hoa", ("culture",)),
        ("du-lich", ("tourism",)),
        ("giao-duc-y-te", ("education", "health")),
    ),
    article_path="/{category}/{slug}-b{id}.htm",
    section_path="/chuyen-trang/{category}.htm",
    pagination_path="/chuyen-trang/{category}/trang-{page}.htm",
    tag_path="/chu-de/{slug}-t{id}.htm",
    sitemap_index_path="/sitemap-index.xml",
    month_sitemap_path="/sitemap/bai-viet-{month}.xml",
    feed_path="/rss/tin-moi.rss",
    title_suffix=" - Báo Núi Mây",
    home_title="Báo Núi Mây - Tin tức vùng cao Núi Mây",
    feed_title="Báo Núi Mây - Tin mới",
    feed_description="Tin mới nhất của Báo Núi Mây",
    publisher="Báo điện tử Núi Mây",
    footer_lines=(
        "Báo Núi Mây - Cơ quan ngôn luận của Hội Nhà báo vùng cao Núi Mây",
        "Tổng biên tập: Hoàng Thị Mây",
        "Địa chỉ: số 8 đường Sương Sớm, phường Đỉnh Mây, tỉnh Núi Mây",
        "Điện thoại: 0299 0000 000",
        "Giấy phép xuất bản số 99/GP-BTTTT, cấp ngày 01/01/2020",
        "© Bản quyền thuộc về Báo Núi Mây. Ghi rõ nguồn khi phát hành lại.",
    ),
    first_id=999_700,
    menu_extra=(("/video.htm", "Video"), ("/lien-he.htm", "Liên hệ")),
    robots_disallow=("/quan-tri/", "/tim-kiem/"),
    dateline="NM",
    dateline_until=date(2025, 1, 1),
    merger_day=None,
)
"""Báo Núi Mây (nuimay.vn): an invented sister paper on the same CMS, other URL forms."""

DOICHE = replace(
    NUIMAY,
    key="doiche",
    origin="https://doiche.example.vn",
    name="Báo Đồi Chè",
    cdn="https://img.doiche.example.vn/uploads",
    image_salt="doiche-synthetic",
    article_path="/{slug}-a{id}.html",
    section_path="/muc/{category}/",
    pagination_path="/muc/{category}/page/{page}/",
    tag_path="/the/{slug}-{id}",
    sitemap_index_path="/sitemap_index.xml",
    month_sitemap_path="/sitemaps/news-{month}.xml",
    feed_path="/feed/tin-moi.xml",
    title_suffix=" | Đồi Chè Online",
    home_title="Đồi Chè Online - Báo Đồi Chè",
    feed_title="Báo Đồi Chè",
    feed_description="Tin mới của Báo Đồi Chè",
    publisher="Đồi Chè Online",
    footer_lines=(
        "Báo Đồi Chè - Cơ quan của Đảng bộ tỉnh Đồi Chè",
        "Tổng biên tập: Nguyễn Văn Chè",
        "Địa chỉ: số 2 đường Búp Non, tỉnh Đồi Chè",
        "Giấy phép số 12/GP-BTTTT",
    ),
    first_id=51_200,
    menu_extra=(("/video/", "Video"), ("/lien-he/", "Liên hệ")),
    dateline="ĐC",
    dateline_until=date(2025, 1, 1),
)
"""Báo Đồi Chè (doiche.example.vn): another invented paper on the same CMS, with yet other
URL forms, described by a site file written from the README alone
(``tests/flows/sites/doiche.toml``); no bundled copy (tests and benchmarks generate it)."""

PAPERS: tuple[PaperSpec, ...] = (BAOLAOCAI, NUIMAY, DOICHE)


def paper_spec(key: str) -> PaperSpec:
    """The spec of a paper by its key; :class:`KeyError` names the known ones."""
    for spec in PAPERS:
        if spec.key == key:
            return spec
    known = ", ".join(p.key for p in PAPERS)
    raise KeyError(f"no paper {key!r} in the generator (known: {known})")


# -- articles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratedArticle:
    """One synthetic article: what :func:`render_article` prints and a parser should read."""

    article_id: int
    slug: str
    path: str
    """``/<slug>-post<id>.html`` (the paper's :attr:`PaperSpec.article_path`)."""
    category_slug: str
    category: str
    title: str
    sapo: str
    paragraphs: tuple[str, ...]
    author: str | None
    published_at: datetime
    """Aware, Asia/Ho_Chi_Minh (UTC+7)."""
    images: tuple[tuple[str, str | None], ...]
    """``(absolute src, caption or None)`` in body order."""
    tags: tuple[str, ...]
    spec: PaperSpec = field(default=BAOLAOCAI, repr=False)
    """The paper it belongs to: its origin, names and URL forms."""

    @property
    def url(self) -> str:
        """Canonical URL: ``https://baolaocai.vn/<slug>-post<id>.html``."""
        return self.spec.url(self.path)


class _Writer:
    """Fills templates for one article: fixed subject (place, crop …), random details."""

    def __init__(
        self, rng: random.Random, topic: str, day: date, merger_day: date | None = MERGER_DAY
    ) -> None:
        self.rng = rng
        self.topic = topic
        self.day = day
        self.merged = merger_day is not None and day >= merger_day
        places = LAO_CAI_PLACES + (YEN_BAI_PLACES if self.merged else ())
        pick = rng.choice
        self.fixed = {
            "place": pick(BORDER_PLACES if topic == "border" else places),
            "crop": pick(CROPS),
            "ethnic": pick(ETHNICS),
            "gate": pick(GATES),
            "sight": pick(SIGHTS),
            "festival": pick(FESTIVALS),
            "village": pick(VILLAGES),
            "period": pick(PERIODS),
            "year": str(day.year),
        }

    def name(self, female: bool) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            family, (middles, givens) = KINH_FAMILY, (KINH_FEMALE if female else KINH_MALE)
        else:
            family, (middles, givens) = HILL_FAMILY, (HILL_FEMALE if female else HILL_MALE)
        return f"{rng.choice(family)} {rng.choice(middles)} {rng.choice(givens)}"

    def person(self) -> str:
        rng = self.rng
        female = rng.random() < 0.4
        title = rng.choice(("bà", "chị") if female else ("ông", "anh"))
        role = rng.choice(ROLES_F if female else ROLES_M).format(
            village=rng.choice(VILLAGES), place=self.fixed["place"]
        )
        return f"{title} {self.name(female)}, {role},"

    def fill(self, template: str) -> str:
        rng = self.rng
        y = self.day.year
        school = f"{y}-{y + 1}" if self.day.month >= 9 else f"{y - 1}-{y}"
        values = dict(self.fixed)
        values.update(
            org=rng.choice(ORGS),
            year_next=str(y + rng.randint(2, 5)),
            school_year=school,
            num=_vn_int(rng.randint(30, 900)),
            num_small=str(rng.randint(5, 60)),
            big=_vn_int(rng.randint(20, 900) * 100),
            ha=_vn_int(rng.randint(10, 500) * 10),
            yield_t=_vn_dec(rng.uniform(1.5, 12)),
            money=str(rng.randint(2, 950)),
            money_usd=_vn_dec(rng.uniform(50, 2500)),
            pct=_vn_dec(rng.uniform(2, 35)) + "%",
            pct_small=_vn_dec(rng.uniform(1, 5)) + "%",
            pct_big=_vn_dec(rng.uniform(85, 99.5)) + "%",
            km=_vn_dec(rng.uniform(10, 60)),
            name_f=self.name(True),
            name_m=self.name(False),
        )
        if "{person}" in template:
            values["person"] = self.person()
        text = template.format_map(values)
        # "ông X, Trưởng thôn Y, cho biết" reads right; before a full stop the comma goes.
        text = text.replace(",,", ",").replace(",.", ".")
        return _nfc(_cap(text))


def _title(w: _Writer) -> str:
    templates = list(TITLES[w.topic])
    w.rng.shuffle(templates)
    tail = w.rng.choice(TITLE_TAILS[w.topic]) if w.rng.random() < 0.4 else ""
    titles = [w.fill(t + tail) for t in templates if not (tail and "năm" in t)]
    titles += [w.fill(t) for t in templates]
    # Every template fits 8-16 words with every slot value; the filter is a safeguard.
    return next((t for t in titles if 8 <= len(t.split()) <= 16), titles[0])


def _paragraphs(w: _Writer) -> tuple[str, ...]:
    rng = w.rng
    topic = list(TOPIC_SENTENCES[w.topic])
    generic = list(GENERIC_SENTENCES)
    if w.merged:
        generic += MERGER_SENTENCES
    rng.shuffle(topic)
    rng.shuffle(generic)
    # Mostly the topic's own sentences, with general reporting in between.
    order: list[str] = []
    while topic or generic:
        source = topic if topic and (not generic or rng.random() < 0.55) else generic
        order.append(source.pop())
    paragraphs: list[str] = []
    i = 0
    # 4-9 paragraphs of 2-4 sentences, shorter ones more often: about 2,500 characters.
    for _ in range(rng.choice((4, 4, 5, 5, 6, 6, 7, 8, 9))):
        sentences = []
        for _ in range(rng.choice((2, 2, 2, 3, 3, 4))):
            sentences.append(w.fill(order[i % len(order)]))
            i += 1
        paragraphs.append(" ".join(sentences))
    return tuple(paragraphs)


def _tags(w: _Writer) -> tuple[str, ...]:
    rng = w.rng
    count = rng.randint(0, 4)
    pool = list(TOPIC_TAGS[w.topic])
    rng.shuffle(pool)
    tags = [w.fixed["place"], *pool]
    return tuple(dict.fromkeys(tags))[:count]


def _publication_times(rng: random.Random, n: int, start: date, end: date) -> list[datetime]:
    span = (end - start).days
    times: list[datetime] = []
    for i in range(n):
        offset = round(i * span / (n - 1)) if n > 1 else 0
        day = start + timedelta(days=offset)
        clock = time(rng.randint(5, 21), rng.randint(0, 59))
        times.append(datetime.combine(day, clock, tzinfo=VN_TZ))
    times.sort()
    for i in range(1, n):  # strictly increasing, like the ids
        if times[i] <= times[i - 1]:
            times[i] = times[i - 1] + timedelta(minutes=1)
    return times


def make_articles(
    n: int,
    *,
    seed: int = 0,
    start: date = date(2023, 1, 1),
    end: date = date(2026, 11, 20),
    first_id: int | None = None,
    spec: PaperSpec = BAOLAOCAI,
) -> list[GeneratedArticle]:
    """``n`` synthetic articles of the paper ``spec``, oldest first; the same ``seed`` gives
    the same list.

    Publication days are spread evenly from ``start`` to ``end`` (inclusive) at random
    times of day; ids start at ``first_id`` (default: the paper's) and grow with the date
    in random steps of 1-50. Each article has 4-9 paragraphs of 2-4 sentences, 0-3 pictures (one caption in
    five missing), 0-4 tags and an author (missing for one in six).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if end < start:
        raise ValueError("end must not be before start")
    rng = random.Random(seed)
    times = _publication_times(rng, n, start, end)
    articles: list[GeneratedArticle] = []
    article_id = spec.first_id if first_id is None else first_id
    topics = dict(spec.category_topics)
    for i, published in enumerate(times):
        if i:
            article_id += rng.randint(1, 50)
        cat_slug, cat_name = rng.choice(spec.categories)
        w = _Writer(rng, rng.choice(topics[cat_slug]), published.date(), spec.merger_day)
        title = _title(w)
        slug = slugify(title)
        sapo = w.fill(rng.choice(SAPOS[w.topic]))
        paragraphs = _paragraphs(w)
        images = []
        captions = rng.sample(CAPTIONS[w.topic] + GENERIC_CAPTIONS, 3)
        for k in range(1, rng.randint(0, 3) + 1):
            caption = None if rng.random() < 0.2 else w.fill(captions[k - 1])
            images.append((spec.image_src(seed, article_id, slug, k), caption))
        tags = _tags(w)
        author = None if rng.random() < 1 / 6 else w.name(rng.random() < 0.5)
        articles.append(
            GeneratedArticle(
                article_id=article_id,
                slug=slug,
                path=spec.article_path_of(slug, article_id, cat_slug),
                category_slug=cat_slug,
                category=cat_name,
                title=title,
                sapo=sapo,
                paragraphs=paragraphs,
                author=author,
                published_at=published,
                images=tuple(images),
                tags=tags,
                spec=spec,
            )
        )
    return articles


def revised_paragraphs(a: GeneratedArticle, revision: int = 0) -> tuple[str, ...]:
    """The body as :func:`render_article` prints it for ``revision`` (0 = as published)."""
    if revision <= 0 or not a.paragraphs:
        return a.paragraphs
    note = REVISION_SENTENCE.format(revision=revision)
    return (*a.paragraphs[:-1], f"{a.paragraphs[-1]} {note}")


def modified_at(a: GeneratedArticle, revision: int = 0) -> datetime:
    """``dateModified`` of ``revision``: ``revision`` hours after publication."""
    return a.published_at + timedelta(hours=max(revision, 0))


# -- rendering ----------------------------------------------------------------------------------

_esc = html.escape


def _href(a: GeneratedArticle, absolute: bool) -> str:
    return a.url if absolute else a.path


def _iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def _json_ld(data: dict[str, object]) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return '<script type="application/ld+json">' + text.replace("</", "<\\/") + "</script>"


def _header(spec: PaperSpec) -> str:
    items = [
        f'    <li><a href="{spec.section_path_of(slug)}" title="{name}">{name}</a></li>'
        for slug, name in spec.categories
    ] + [
        f'    <li><a href="{path}" title="{label}">{label}</a></li>'
        for path, label in spec.menu_extra
    ]
    return "\n".join(
        [
            '<header class="site-header">',
            f'  <div class="logo"><a href="/" title="{spec.name}"><img src="{spec.logo_path}" '
            f'alt="{spec.name}"></a></div>',
            '  <nav class="menu">',
            "   <ul>",
            '    <li><a href="/" title="Trang chủ">Trang chủ</a></li>',
            *items,
            "   </ul>",
            "  </nav>",
            "</header>",
        ]
    )


def _footer(spec: PaperSpec) -> str:
    lines = "".join(f"<p>{line}</p>" for line in spec.footer_lines)
    return f'<footer class="site-footer">{lines}</footer>'


_SOCIAL = (
    '<div class="article__social"><span>Chia sẻ</span><a class="zalo" href="#">Zalo</a>'
    '<a class="fb" href="#">Facebook</a><a class="save" href="#">Lưu</a>'
    '<a class="print" href="#">In bài</a></div>'
)
_COMMENTS = (
    '<div class="comment-box"><h3>Bình luận</h3><textarea placeholder="Nội dung bình luận">'
    "</textarea><button>Gửi bình luận</button></div>"
)


def _head(spec: PaperSpec, title: str, canonical: str, extra: Sequence[str] = ()) -> str:
    lines = [
        "<!DOCTYPE html>",
        '<html lang="vi">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{_esc(title)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        *extra,
        '<link rel="stylesheet" href="/assets/css/main.min.css">',
        "</head>",
        "<body>",
        _header(spec),
    ]
    if not extra:  # listing pages: canonical and feed right after the viewport
        lines[6:6] = [
            f'<link rel="canonical" href="{canonical}">',
            f'<link rel="alternate" type="application/rss+xml" title="{spec.name}" '
            f'href="{spec.feed_path}">',
        ]
    return "\n".join(lines)


def _picture(src: str, caption: str | None, alt: str, lazy: bool) -> str:
    if lazy:
        img = (
            f'<img class="cms-photo" src="{PLACEHOLDER_GIF}" data-src="{_esc(src)}" '
            f'alt="{_esc(alt)}" width="800" height="533">'
        )
    else:
        img = f'<img class="cms-photo" src="{_esc(src)}" alt="{_esc(alt)}">'
    rows = f'<tr><td class="pic">{img}</td></tr>'
    if caption is not None:
        rows += f'<tr><td class="caption"><p>{_esc(caption)}</p></td></tr>'
    return f'<table class="picture" align="center"><tbody>{rows}</tbody></table>'


def render_article(
    a: GeneratedArticle, *, revision: int = 0, related: Sequence[GeneratedArticle] = ()
) -> str:
    """The article page in the current EPI layout, as on the bundled site.

    ``revision > 0`` is an edited version: the last paragraph gains one sentence and
    ``dateModified`` / ``article:modified_time`` move ``revision`` hours later; nothing
    else changes. ``related`` (other articles, usually of the same section) fill the
    "Tin cùng chuyên mục" box and, on some pages, a "Tin liên quan" box inside the body.
    """
    if revision < 0:
        raise ValueError("revision must be >= 0")
    spec = a.spec
    published = _iso(a.published_at)
    modified = _iso(modified_at(a, revision))
    shown_sapo = spec.shown_sapo(a.sapo, a.published_at)
    title, sapo = _esc(a.title), _esc(shown_sapo)
    first_image = a.images[0][0] if a.images else None
    article_ld: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a.title,
        "description": shown_sapo,
    }
    if a.images:
        article_ld["image"] = [src for src, _ in a.images]
    article_ld["datePublished"] = published
    article_ld["dateModified"] = modified
    if a.author:
        article_ld["author"] = {"@type": "Person", "name": a.author}
    article_ld.update(
        publisher={
            "@type": "Organization",
            "name": spec.publisher,
            "logo": {"@type": "ImageObject", "url": spec.url(spec.logo_path)},
        },
        articleSection=a.category,
        mainEntityOfPage=a.url,
    )
    crumbs_ld = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": 1, "name": "Trang chủ", "item": spec.url("/")},
            {
                "@type": "ListItem",
                "position": 2,
                "name": a.category,
                "item": spec.url(spec.section_path_of(a.category_slug)),
            },
        ],
    }
    meta = [
        f'<meta name="description" content="{sapo}">',
        f'<link rel="canonical" href="{a.url}">',
        f'<meta property="og:site_name" content="{spec.name}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{title}">',
        f'<meta property="og:description" content="{sapo}">',
    ]
    if first_image:
        meta.append(f'<meta property="og:image" content="{_esc(first_image)}">')
    meta += [
        f'<meta property="og:url" content="{a.url}">',
        f'<meta property="article:published_time" content="{published}">',
        f'<meta property="article:modified_time" content="{modified}">',
        f'<meta property="article:section" content="{_esc(a.category)}">',
        *(f'<meta property="article:tag" content="{_esc(t)}">' for t in a.tags),
        _json_ld(article_ld),
        _json_ld(crumbs_ld),
    ]

    paragraphs = revised_paragraphs(a, revision)
    count = len(paragraphs)
    # Picture k goes after paragraph ((k+1) * count // (n+1)): always between paragraphs.
    after: dict[int, list[int]] = defaultdict(list)
    for k in range(len(a.images)):
        after[max(1, (k + 1) * count // (len(a.images) + 1))].append(k)
    inline_related = list(related[:2]) if a.article_id % 3 == 0 and count > 3 else []
    body: list[str] = []
    for i, text in enumerate(paragraphs, start=1):
        body.append(f"    <p>{_esc(text)}</p>")
        for k in after.get(i, ()):
            src, caption = a.images[k]
            lazy = (a.article_id + k) % 4 != 3
            body.append("    " + _picture(src, caption, caption or a.title, lazy))
        if i == 2 and inline_related:
            links = "".join(f'<p><a href="{r.url}">{_esc(r.title)}</a></p>' for r in inline_related)
            body.append(
                '    <table class="related" align="center"><tbody><tr><td>'
                f'<div class="box-heading">Tin liên quan</div>{links}</td></tr></tbody></table>'
            )
    if a.author:
        body.append(f'    <p style="text-align: right;"><strong>{_esc(a.author)}</strong></p>')

    byline = f'<span class="article__author">{_esc(a.author)}</span>' if a.author else ""
    shown = a.published_at.strftime("%d/%m/%Y %H:%M")
    parts = [
        _head(spec, a.title + spec.title_suffix, a.url, meta),
        '<main class="main">',
        '<div class="breadcrumbs"><a href="/">Trang chủ</a>'
        f'<a href="{spec.section_path_of(a.category_slug)}" '
        f'title="{_esc(a.category)}">{_esc(a.category)}</a></div>',
        '<div class="article">',
        f'  <h1 class="article__title cms-title">{title}</h1>',
        f'  <div class="article__meta">{byline}<time class="time" datetime="{published}">'
        f"{shown}</time></div>",
        f"  {_SOCIAL}",
        f'  <div class="article__sapo cms-desc">{sapo}</div>',
        '  <div class="article__body cms-body" itemprop="articleBody">',
        *body,
        "  </div>",
    ]
    if a.tags:
        links = "".join(f'<a href="{spec.tag_path_of(t)}">{_esc(t)}</a>' for t in a.tags)
        parts.append(f'  <div class="article__tag"><span>Từ khóa:</span>{links}</div>')
    parts.append("</div>")
    if related:
        items = "".join(f'<li><a href="{r.path}">{_esc(r.title)}</a></li>' for r in related)
    else:
        items = f'<li><a href="{spec.section_path_of(a.category_slug)}">{_esc(a.category)}</a></li>'
    parts += [
        f'<section class="related-news"><h3 class="box-heading">Tin cùng chuyên mục</h3>'
        f"<ul>{items}</ul></section>",
        _COMMENTS,
        "</main>",
        _footer(spec),
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def _story(a: GeneratedArticle, absolute: bool, *, thumb: bool = False) -> str:
    href = _href(a, absolute)
    title = _esc(a.title)
    cls = "story story--featured" if thumb else "story"
    pic = ""
    if thumb and a.images:
        pic = (
            f'<a class="story__thumb" href="{a.path}"><img src="{_esc(a.images[0][0])}" '
            f'alt="{title}"></a>'
        )
    return (
        f'<article class="{cls}">{pic}<h2 class="story__heading"><a class="cms-link" '
        f'href="{href}" title="{title}">{title}</a></h2><div class="story__summary">'
        f"{_esc(a.sapo)}</div><time>{a.published_at:%d/%m/%Y}</time></article>"
    )


def render_home(articles: Sequence[GeneratedArticle], spec: PaperSpec = BAOLAOCAI) -> str:
    """The home page: the 20 newest articles (3 featured, the rest in "Tin mới")."""
    newest = sorted(articles, key=lambda x: x.published_at, reverse=True)[:HOME_COUNT]
    featured = [_story(a, i % 2 == 1, thumb=i == 0) for i, a in enumerate(newest[:3])]
    latest = [
        f'  <li><a href="{_href(a, i % 3 == 0)}">{_esc(a.title)}</a> '
        f"<time>{a.published_at:%d/%m/%Y}</time></li>"
        for i, a in enumerate(newest[3:])
    ]
    cats = "\n".join(
        f'<div class="home-cat"><h2><a href="{spec.section_path_of(slug)}">{name}</a></h2></div>'
        for slug, name in spec.categories
    )
    return "\n".join(
        [
            _head(spec, spec.home_title, spec.url("/")),
            '<main class="main home">',
            '<section class="featured">',
            *featured,
            "</section>",
            '<section class="latest"><h2 class="box-heading">Tin mới</h2>',
            "<ul>",
            *latest,
            "</ul>",
            "</section>",
            '<section class="home-cats">',
            cats,
            "</section>",
            "</main>",
            _footer(spec),
            "</body></html>",
            "",
        ]
    )


def _pagination(spec: PaperSpec, cat_slug: str, page: int, pages: int) -> str:
    """Prev, numbered links (a window around the current page, plus first and last), next."""
    if pages <= 1:
        return ""
    links: list[str] = []
    if page > 1:
        links.append(f'<a href="{spec.section_path_of(cat_slug, page - 1)}" rel="prev">Trước</a>')
    shown = sorted({1, pages, *range(max(1, page - 2), min(pages, page + 2) + 1)})
    for p in shown:
        active = ' class="active"' if p == page else ""
        links.append(f'<a href="{spec.section_path_of(cat_slug, p)}"{active}>{p}</a>')
    if page < pages:
        links.append(f'<a href="{spec.section_path_of(cat_slug, page + 1)}" rel="next">Sau</a>')
    return f'<div class="pagination">{"".join(links)}</div>'


def render_category_page(
    cat_slug: str,
    cat_name: str,
    page_articles: Sequence[GeneratedArticle],
    page: int,
    pages: int,
    most_read: Sequence[GeneratedArticle] = (),
    spec: PaperSpec = BAOLAOCAI,
) -> str:
    """One listing page of a section (``/<cat>/`` or ``/<cat>/trang-N.html`` on baolaocai)."""
    title = cat_name if page == 1 else f"{cat_name} - Trang {page}"
    title += spec.title_suffix
    stories = [_story(a, a.article_id % 2 == 0) for a in page_articles]
    most = "".join(f'<li><a href="{a.path}">{_esc(a.title)}</a></li>' for a in most_read)
    lines = [
        _head(spec, title, spec.url(spec.section_path_of(cat_slug, page))),
        '<main class="main category">',
        '<div class="breadcrumbs"><a href="/">Trang chủ</a>'
        f'<a href="{spec.section_path_of(cat_slug)}" title="{cat_name}">{cat_name}</a></div>',
        f'<h1 class="category__title">{cat_name}</h1>',
        '<div class="category__list">',
        *stories,
        "</div>",
    ]
    pagination = _pagination(spec, cat_slug, page, pages)
    if pagination:
        lines.append(pagination)
    lines += [
        "</main>",
        '<aside class="sidebar"><div class="box-most"><h3 class="box-heading">Xem nhiều nhất'
        f"</h3><ul>{most}</ul></div></aside>",
        _footer(spec),
        "</body></html>",
        "",
    ]
    return "\n".join(lines)


def _xml(text: str) -> str:
    return html.escape(text, quote=False)


def render_sitemaps(
    articles: Sequence[GeneratedArticle], revisions: dict[int, int], spec: PaperSpec = BAOLAOCAI
) -> tuple[str, dict[str, str]]:
    """``(sitemap index, {"YYYY-MM": child sitemap})``, newest month first."""
    by_month: dict[str, list[GeneratedArticle]] = defaultdict(list)
    for a in articles:
        by_month[f"{a.published_at:%Y-%m}"].append(a)
    children: dict[str, str] = {}
    index = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for month in sorted(by_month, reverse=True):
        month_articles = sorted(by_month[month], key=lambda x: x.published_at, reverse=True)
        mods = {
            a.article_id: modified_at(a, revisions.get(a.article_id, 0)) for a in month_articles
        }
        urls = [
            f"  <url>\n    <loc>{_xml(a.url)}</loc>\n"
            f"    <lastmod>{_iso(mods[a.article_id])}</lastmod>\n  </url>"
            for a in month_articles
        ]
        children[month] = "\n".join(
            [
                '<?xml version="1.0" encoding="UTF-8"?>',
                '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
                *urls,
                "</urlset>",
                "",
            ]
        )
        index.append(
            f"  <sitemap>\n    <loc>{spec.url(spec.month_sitemap_path_of(month))}</loc>\n"
            f"    <lastmod>{_iso(max(mods.values()))}</lastmod>\n  </sitemap>"
        )
    index += ["</sitemapindex>", ""]
    return "\n".join(index), children


def render_rss(
    articles: Sequence[GeneratedArticle], revisions: dict[int, int], spec: PaperSpec = BAOLAOCAI
) -> str:
    """RSS 2.0 of the 20 newest articles (``pubDate`` RFC 822, ``+0700``)."""
    newest = sorted(articles, key=lambda x: x.published_at, reverse=True)[:RSS_COUNT]
    built = max(
        (modified_at(a, revisions.get(a.article_id, 0)) for a in newest),
        default=datetime(2023, 1, 1, tzinfo=VN_TZ),
    )
    items = [
        "    <item>\n"
        f"      <title>{_xml(a.title)}</title>\n"
        f"      <link>{_xml(a.url)}</link>\n"
        f'      <guid isPermaLink="true">{_xml(a.url)}</guid>\n'
        f"      <description>{_xml(a.sapo)}</description>\n"
        f"      <category>{_xml(a.category)}</category>\n"
        f"      <pubDate>{format_datetime(a.published_at)}</pubDate>\n"
        "    </item>"
        for a in newest
    ]
    return "\n".join(
        [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<rss version="2.0">',
            "  <channel>",
            f"    <title>{_xml(spec.feed_title)}</title>",
            f"    <link>{spec.url('/')}</link>",
            f"    <description>{_xml(spec.feed_description)}</description>",
            "    <language>vi</language>",
            f"    <lastBuildDate>{format_datetime(built)}</lastBuildDate>",
            *items,
            "  </channel>",
            "</rss>",
            "",
        ]
    )


def render_robots(spec: PaperSpec = BAOLAOCAI) -> str:
    """robots.txt: the paper's disallowed folders and its sitemap index."""
    disallow = "".join(f"Disallow: {path}\n" for path in spec.robots_disallow)
    return f"User-agent: *\n{disallow}\nSitemap: {spec.url(spec.sitemap_index_path)}\n"


ROBOTS_TXT = render_robots(BAOLAOCAI)


def write_site(
    root: Path,
    articles: list[GeneratedArticle],
    *,
    per_page: int = 10,
    revisions: dict[int, int] | None = None,
    spec: PaperSpec | None = None,
) -> None:
    """Write a complete site copy under ``root`` (created if missing; files overwritten).

    For baolaocai: ``index.html``; ``<cat>/index.html`` and ``<cat>/trang-N.html``
    (``per_page`` articles each, newest first); ``<slug>-post<id>.html`` for every
    article, rendered with its revision from ``revisions`` (article id -> revision,
    default 0); ``robots.txt``; ``sitemap.xml`` (an index of ``sitemaps/YYYY-MM.xml``);
    ``rss/home.rss``. Another paper writes the same pages at its own paths (see
    :class:`PaperSpec`). The paper is ``spec``, else the articles' own (baolaocai when
    there are none); articles of another paper are refused. Files left over from an
    earlier, larger site under the same root are not removed.
    """
    if per_page < 1:
        raise ValueError("per_page must be >= 1")
    if spec is None:
        spec = articles[0].spec if articles else BAOLAOCAI
    strangers = [a.path for a in articles if a.spec is not spec and a.spec != spec]
    if strangers:
        raise ValueError(f"articles of another paper than {spec.key!r}: {strangers[:3]}")
    revisions = dict(revisions or {})
    root = Path(root)
    made: set[Path] = set()

    def mkdir(folder: Path) -> None:
        if folder not in made:
            folder.mkdir(parents=True, exist_ok=True)
            made.add(folder)

    def write(path: str, text: str) -> None:
        file = root / file_of(path)
        mkdir(file.parent)
        file.write_text(text, encoding="utf-8")

    mkdir((root / file_of(spec.feed_path)).parent)
    mkdir((root / file_of(spec.month_sitemap_path_of("2000-01"))).parent)

    newest_first = sorted(articles, key=lambda x: x.published_at, reverse=True)
    by_cat: dict[str, list[GeneratedArticle]] = {slug: [] for slug, _ in spec.categories}
    for a in newest_first:
        by_cat.setdefault(a.category_slug, []).append(a)
    most_read = sorted(articles, key=lambda x: zlib.crc32(str(x.article_id).encode()))[:3]

    write("/", render_home(newest_first, spec))
    names = dict(spec.categories)
    for cat_slug, cat_articles in by_cat.items():
        pages = max(1, -(-len(cat_articles) // per_page))
        for page in range(1, pages + 1):
            chunk = cat_articles[(page - 1) * per_page : page * per_page]
            text = render_category_page(
                cat_slug, names.get(cat_slug, cat_slug), chunk, page, pages, most_read, spec
            )
            write(spec.section_path_of(cat_slug, page), text)
        for i, a in enumerate(cat_articles):
            # Same section, nearest in time: two older ones, else newer ones.
            related = cat_articles[i + 1 : i + 3] or cat_articles[max(0, i - 2) : i]
            write(
                a.path, render_article(a, revision=revisions.get(a.article_id, 0), related=related)
            )
    write("/robots.txt", render_robots(spec))
    index, children = render_sitemaps(articles, revisions, spec)
    write(spec.sitemap_index_path, index)
    for month, text in children.items():
        write(spec.month_sitemap_path_of(month), text)
    write(spec.feed_path, render_rss(articles, revisions, spec))


@dataclass(frozen=True)
class Bundle:
    """How a paper's bundled offline copy is generated (``sitecopy/sites/<key>``)."""

    n: int = 24
    seed: int = 2024
    start: date = date(2024, 11, 3)
    end: date = date(2025, 3, 28)
    """Five months: five monthly sitemaps, and the dateline on the articles of 2024."""
    per_page: int = 3
    """Three per listing page: two listing pages or more in every section."""

    def articles(self, spec: PaperSpec = NUIMAY) -> list[GeneratedArticle]:
        return make_articles(self.n, seed=self.seed, start=self.start, end=self.end, spec=spec)

    def write(self, root: Path, spec: PaperSpec = NUIMAY) -> list[GeneratedArticle]:
        """Write the copy under ``root``; its articles, oldest first."""
        articles = self.articles(spec)
        write_site(root, articles, per_page=self.per_page, spec=spec)
        return articles


BUNDLE = Bundle()
"""The bundled copy of the sister paper: ``BUNDLE.write(copy_dir("nuimay"), NUIMAY)``."""


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m sitecopy.generate --paper nuimay --out sitecopy/sites/nuimay``."""
    parser = argparse.ArgumentParser(
        prog="python -m sitecopy.generate",
        description="Write a paper's synthetic offline copy (as bundled, unless told otherwise).",
    )
    parser.add_argument("--paper", default=NUIMAY.key, choices=[p.key for p in PAPERS])
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=BUNDLE.seed)
    parser.add_argument("-n", "--articles", type=int, default=BUNDLE.n)
    args = parser.parse_args(argv)
    bundle = Bundle(n=args.articles, seed=args.seed)
    articles = bundle.write(args.out, paper_spec(args.paper))
    print(f"{len(articles)} articles of {args.paper} written under {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
