"""Site files: a newspaper is one file over its CMS family file; a wrong file is refused at
load time in one line naming the file, the key and the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from baolaocai.errors import ConfigError
from baolaocai.identity import article_id, canonical_article_url, canonicalize, is_tag_page
from baolaocai.settings import Settings, load_settings
from baolaocai.site import bundled_sites, default_site, load_site
from scrapers.discovery import extract_links
from transforms.parse import parse_article

# An imaginary sister paper on the EPI CMS: its own domain, addresses and names.
SISTER = """\
key = "songda"
name = "Báo Sông Đà"
extends = "epi"
origin = "https://songda.example.vn"
hosts = ["www.songda.example.vn", "m.songda.example.vn"]

[urls]
article = ["^/[\\\\w-]+-a(?P<id>\\\\d+)\\\\.html$"]
tag_page = ["^/the/[\\\\w-]+$"]
section = ["^/muc/[a-z0-9-]+/?$"]

[names]
title_suffixes = ["Sông Đà điện tử"]
dateline_prefixes = ["SĐ"]
"""


def write(tmp_path: Path, text: str, name: str = "songda.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def sister(tmp_path: Path) -> Path:
    return write(tmp_path, SISTER)


def test_bundled_sites_load_and_baolaocai_is_the_default() -> None:
    keys = [key for key, _ in bundled_sites()]
    assert "baolaocai" in keys
    for key in keys:
        site = load_site(key)
        assert site.key == key
        assert site.family == "epi"
    assert Settings().site.key == "baolaocai"
    assert Settings().base_url == "https://baolaocai.vn"
    assert Settings().db_path == "warehouse/baolaocai.duckdb"


def test_a_sister_paper_is_one_short_file(sister: Path) -> None:
    site = load_site(sister)
    assert site.name == "Báo Sông Đà"
    # m. and amp. serve the copies of articles (family [urls] copy_hosts)
    assert site.hosts == {
        "songda.example.vn",
        "www.songda.example.vn",
        "m.songda.example.vn",
        "amp.songda.example.vn",
    }
    # What it does not say comes from the family: selectors, furniture, the time zone.
    assert site.profile.select("body") == default_site().profile.select("body")
    assert site.time_zone == "Asia/Ho_Chi_Minh"
    # {name} in the family's phrases becomes this paper's name.
    assert site.profile.is_phrase("Theo dõi Báo Sông Đà trên Google News")
    assert not site.profile.is_phrase("Theo dõi Báo Lào Cai trên Google News")


def test_identity_belongs_to_the_site(sister: Path) -> None:
    site = load_site(sister)
    url = "http://www.songda.example.vn/lua-chin-tren-ruong-bac-thang-a123456.html?utm_source=z#x"
    assert canonical_article_url(url, site) == (
        "https://songda.example.vn/lua-chin-tren-ruong-bac-thang-a123456.html"
    )
    assert article_id(url, site) == 123456
    assert is_tag_page("https://songda.example.vn/the/ruong-bac-thang", site)
    # Never rewritten onto another paper's host, nor read with its patterns.
    assert canonicalize("https://baolaocai.vn/x-post1.html", site) is None
    assert article_id("https://songda.example.vn/x-post1.html", site) is None
    assert canonicalize(url, default_site()) is None


def test_discovery_reads_the_sisters_menus_and_links(sister: Path) -> None:
    site = load_site(sister)
    html = (
        '<html><body><nav class="menu"><a href="/muc/kinh-te/">Kinh tế</a>'
        '<a href="/the/lua">Lúa</a></nav>'
        '<a href="/lua-chin-a77.html">A</a><a href="https://baolaocai.vn/b-post9.html">B</a>'
        "</body></html>"
    )
    links = extract_links(html, "https://songda.example.vn/", site)
    assert links.articles == ["https://songda.example.vn/lua-chin-a77.html"]
    assert links.sections == ["https://songda.example.vn/muc/kinh-te/"]


def test_the_parser_reads_the_sisters_names(sister: Path) -> None:
    site = load_site(sister)
    html = """<html><head><title>Lúa chín trên ruộng bậc thang | Sông Đà điện tử</title>
    <link rel="canonical" href="https://songda.example.vn/lua-chin-a77.html"></head><body>
    <div class="article__sapo">SĐ - Mùa lúa chín vàng trên những thửa ruộng bậc thang.</div>
    <div class="article__body"><p>Người dân trong bản bắt đầu gặt lúa từ sáng sớm, khi sương
    còn phủ kín thung lũng và tiếng gọi nhau vang khắp sườn đồi.</p></div></body></html>"""
    article = parse_article(html, None, site=site)
    assert article.title == "Lúa chín trên ruộng bậc thang"
    assert article.article_id == 77
    assert article.url == "https://songda.example.vn/lua-chin-a77.html"
    assert article.sapo == "Mùa lúa chín vàng trên những thửa ruộng bậc thang."


def test_settings_follow_the_site(sister: Path) -> None:
    settings = load_settings({"BAOLAOCAI_SITE": str(sister)})
    assert settings.site.key == "songda"
    assert settings.base_url == "https://songda.example.vn"
    assert settings.db_path == "warehouse/songda.duckdb"
    moved = Settings().override(site=str(sister))
    assert (moved.base_url, moved.db_path) == (
        "https://songda.example.vn",
        "warehouse/songda.duckdb",
    )
    kept = Settings(db_path="/tmp/x.duckdb").override(site=str(sister))
    assert kept.db_path == "/tmp/x.duckdb"


@pytest.mark.parametrize(
    ("change", "key", "reason"),
    [
        (('key = "songda"', 'key = "songda"\nsections = 3'), "sections", "unknown key"),
        (("[urls]", "[urls]\narticles = []"), "urls.articles", "unknown key"),
        (
            (
                'article = ["^/[\\\\w-]+-a(?P<id>\\\\d+)\\\\.html$"]',
                'article = ["^/[\\\\w-]+-a(\\\\d+)\\\\.html$"]',
            ),
            "urls.article[0]",
            "(?P<id>",
        ),
        (
            ('article = ["^/[\\\\w-]+-a(?P<id>\\\\d+)\\\\.html$"]', 'article = ["^/(?P<id>)x"]'),
            "urls.article[0]",
            "empty",
        ),
        (
            ('article = ["^/[\\\\w-]+-a(?P<id>\\\\d+)\\\\.html$"]', "article = []"),
            "urls.article",
            "must not be empty",
        ),
        (
            ('section = ["^/muc/[a-z0-9-]+/?$"]', 'section = ["^/muc/[a-z"]'),
            "urls.section[0]",
            "bad regular expression",
        ),
        (
            ('origin = "https://songda.example.vn"', 'origin = "songda.example.vn"'),
            "origin",
            "http(s) URL",
        ),
        (
            ('origin = "https://songda.example.vn"', 'origin = "https://songda.example.vn/tin"'),
            "origin",
            "no path",
        ),
        (('extends = "epi"', 'extends = "wordpress"'), "extends", "no CMS family"),
        (('key = "songda"', 'key = "Sông Đà"'), "key", "lower-case"),
        (('name = "Báo Sông Đà"\n', ""), "name", "is required"),
        (
            ('key = "songda"', 'key = "songda"\ntime_zone = "Mars/Olympus"'),
            "time_zone",
            "unknown time zone",
        ),
        (
            ("[names]", '[selectors]\nbody = [".article__body[itemprop"]\n[names]'),
            "selectors.body[0]",
            "not a CSS selector",
        ),
        (
            ("[names]", '[append.boilerplate]\nphrases = [""]\n[names]'),
            "append.boilerplate.phrases",
            "empty string",
        ),
        (("[names]", '[kinds]\nlive = ["live-blog"]\n[names]'), "kinds.live[0]", "SIGNAL:VALUE"),
        (("[names]", '[kinds]\nlive = ["colour:red"]\n[names]'), "kinds.live[0]", "SIGNAL:VALUE"),
        (("[names]", '[kinds]\nvideo = ["max-words:many"]\n[names]'), "kinds.video[0]", "number"),
        (("[names]", '[kinds]\nlive = ["css:div[x"]\n[names]'), "kinds.live[0]", "CSS selector"),
        (("[names]", '[kinds]\nlive = ["url:(truc"]\n[names]'), "kinds.live", "bad regular"),
        (("[names]", '[kinds]\nsport = ["css:.x"]\n[names]'), "kinds.sport", "unknown key"),
        (
            ("[urls]", '[urls]\ncopies = ["^/amp/(.+)$ -> /\\\\1"]'),
            "urls.copies[0]",
            "PATTERN => REPLACEMENT",
        ),
        (
            ("[urls]", '[urls]\ncopies = ["^/amp/(.+)$ => /\\\\2"]'),
            "urls.copies[0]",
            "bad rule",
        ),
        (("[names]", '[search]\nvariants = "Sa Pa"\n[names]'), "search.variants", "list of"),
        (("[names]", '[search]\nvariants = [["Sa Pa"]]\n[names]'), "search.variants[0]", "two"),
        (("[names]", "[search]\nvariants = [[]]\n[names]"), "search.variants[0]", "empty"),
        (
            ("[names]", '[search]\nvariants = [["Sa Pa", 3]]\n[names]'),
            "search.variants[0]",
            "list of strings",
        ),
        (
            ("[names]", '[search]\nvariants = [["Sa Pa", " – "]]\n[names]'),
            "search.variants[0]",
            "no letter or digit",
        ),
        (
            ("[names]", '[search]\nvariants = [["Sa Pa", "Sapa"], ["SA PA", "Sa-pa"]]\n[names]'),
            "search.variants[1]",
            "already in a group",
        ),
        (("[names]", "[search]\nsynonyms = []\n[names]"), "search.synonyms", "unknown key"),
        (
            ("[names]", '[append.search]\nvariants = [["a"]]\n[names]'),
            "append.search.variants[0]",
            "two",
        ),
    ],
)
def test_a_wrong_site_file_is_refused_in_one_line(
    tmp_path: Path, change: tuple[str, str], key: str, reason: str
) -> None:
    assert change[0] in SISTER
    path = write(tmp_path, SISTER.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as caught:
        load_site(path)
    message = caught.value.message
    assert "\n" not in message
    assert str(path) in message
    assert f": {key}:" in message
    assert reason in message


def test_not_toml_and_missing_files_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_site(write(tmp_path, "key = = 3"))
    with pytest.raises(ConfigError, match="no such file"):
        load_site(tmp_path / "nothing.toml")
    with pytest.raises(ConfigError, match="no bundled site of that name"):
        load_site("nosuchpaper")


def test_append_adds_to_the_family_lists(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        SISTER + '\n[append.boilerplate]\nphrases = ["Nghe podcast Sông Đà"]\n',
    )
    site = load_site(path)
    assert site.profile.is_phrase("Nghe podcast Sông Đà")
    assert site.profile.is_phrase("Chia sẻ")  # the family's are kept


def test_ids_past_bigint_are_no_article_id() -> None:
    site = default_site()
    assert article_id("https://baolaocai.vn/x-post9223372036854775807.html", site) == 2**63 - 1
    assert article_id("https://baolaocai.vn/x-post9223372036854775808.html", site) is None
    assert article_id("https://baolaocai.vn/x-post0.html", site) is None


def test_copies_of_an_article_are_the_article(sister: Path) -> None:
    """AMP and print copies (family ``[urls] copies`` and ``copy_hosts``) canonicalise to
    the article they copy: one article, one URL, one row."""
    site = load_site(sister)
    article = "https://songda.example.vn/ban-lang-don-tet-a4521.html"
    for copy in (
        "https://m.songda.example.vn/ban-lang-don-tet-a4521.amp",
        "https://amp.songda.example.vn/ban-lang-don-tet-a4521.html",
        "https://songda.example.vn/amp/ban-lang-don-tet-a4521.html",
        "https://songda.example.vn/print/ban-lang-don-tet-a4521.html",
        "https://songda.example.vn/ban-lang-don-tet-a4521.html?print=1&utm_source=x",
    ):
        assert canonical_article_url(copy, site) == article, copy
        assert article_id(canonicalize(copy, site) or "", site) == 4521
    # a copy rule needs a copied path: the AMP home page copies no article
    assert canonicalize("https://songda.example.vn/amp/", site) == "https://songda.example.vn/amp/"


def test_a_site_file_tells_its_own_kinds(tmp_path: Path) -> None:
    """``[kinds]`` in a site file replaces the family's signals of that kind only."""
    path = write(tmp_path, SISTER + '\n[kinds]\nlive = ["url:^/dien-bien/"]\n')
    site = load_site(path)
    rules = {rule.kind: rule for rule in site.profile.kinds}
    assert [p.pattern for p in rules["live"].url_res] == ["^/dien-bien/"]
    assert not rules["live"].css  # the family's live signals are replaced
    assert rules["e-magazine"].css  # … the other kinds' are kept


def test_search_variants_of_the_site_file(tmp_path: Path) -> None:
    bundled = default_site().variants
    assert ("Sa Pa", "Sapa") in bundled  # the paper writes "Sa Pa"; readers type "sapa"
    assert all(len(group) >= 2 for group in bundled)
    assert load_site(write(tmp_path, SISTER)).variants == ()  # none unless listed
    sister = SISTER.replace(
        "[names]", '[search]\nvariants = [["Sông Đà", "Sông  Đà ", "Song Da"]]\n[names]', 1
    )
    with pytest.raises(ConfigError, match="already in a group"):
        load_site(write(tmp_path, sister, "dup.toml"))  # the same spelling twice
    sister = SISTER.replace(
        "[names]",
        '[search]\nvariants = [["Hoà Bình", "Hòa Bình"], ["Mộc Châu", "Moc Chau"]]\n[names]',
        1,
    )
    sister += '\n[append.search]\nvariants = [["Tà Xùa", "Ta Xua"]]\n'
    site = load_site(write(tmp_path, sister, "ok.toml"))
    assert site.variants == (
        ("Hoà Bình", "Hòa Bình"),
        ("Mộc Châu", "Moc Chau"),
        ("Tà Xùa", "Ta Xua"),
    )
