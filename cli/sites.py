"""``baolaocai sites``: the bundled sites, and ``sites check``: what a site file makes of
URLs and saved pages, before a crawl depends on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer

from baolaocai.errors import BaoLaoCaiError
from baolaocai.identity import article_id, canonicalize, is_tag_page
from baolaocai.site import DEFAULT_SITE, Site, bundled_sites, load_site
from baolaocai.text import json_for_terminal
from cli.support import EXIT_BAD_INPUT, friendly_errors, out, print_error, print_warning

sites_app = typer.Typer(
    name="sites",
    help="List the bundled sites; check a site file against URLs and saved pages.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@sites_app.callback(invoke_without_command=True)
@friendly_errors
def sites_list(ctx: typer.Context) -> None:
    """The bundled sites (use one with --site KEY, or any site file with --site PATH)."""
    if ctx.invoked_subcommand is not None:
        return
    for key, path in bundled_sites():
        site = load_site(path)
        default = "  (default)" if key == DEFAULT_SITE else ""
        out.print(
            f"{key:<12} {site.name} <{site.origin}>  family {site.family}{default}", markup=False
        )


def url_report(site: Site, url: str) -> dict[str, object]:
    """What the site's patterns make of one URL."""
    canonical = canonicalize(url, site)
    report: dict[str, object] = {"url": url, "canonical": canonical}
    if canonical is None:
        report["kind"] = "off-site (not one of the site's hosts)"
        return report
    path = urlsplit(canonical).path
    aid = article_id(canonical, site)
    if aid is not None:
        kind = "article"
        report["article_id"] = aid
    elif is_tag_page(canonical, site):
        kind = "tag page"
    elif site.is_next_page(canonical):
        kind = "listing page (pagination)"
    elif (month := site.month_of_sitemap(canonical)) is not None:
        kind = f"monthly sitemap ({month[0]}-{month[1]:02d})"
    elif path == "/":
        kind = "home page"
    elif any(p.match(path) for p in site.section_res) and not any(
        p.match(path) for p in site.section_exclude_res
    ):
        kind = "section (if a menu links it)"
    else:
        kind = "other (not followed)"
    report["kind"] = kind
    return report


@sites_app.command("check")
@friendly_errors
def sites_check(
    file: Annotated[str, typer.Argument(help="A site file's path (or a bundled site's key).")],
    url: Annotated[
        list[str] | None, typer.Option("--url", help="A URL to classify (repeatable).")
    ] = None,
    page: Annotated[
        list[Path] | None,
        typer.Option("--page", help="A saved article page to parse with the site (repeatable)."),
    ] = None,
) -> None:
    """Load a site file (an error is one line naming the key), print what it says, and with
    --url / --page show what its patterns and parser make of a URL or a saved page."""
    site = load_site(file)
    out.print(f"{site.path}: OK", markup=False)
    out.print(f"  {site.key}: {site.name} <{site.origin}>", markup=False)
    out.print(f"  hosts: {', '.join(sorted(site.hosts))}", markup=False)
    out.print(
        f"  family {site.family}, parser {site.parser}, time zone {site.time_zone}", markup=False
    )
    # Every pattern in force, the family's included: what the file did not override.
    for key, patterns in (
        ("article", site.article_res),
        ("tag_page", site.tag_page_res),
        ("not_article", site.not_article_res),
        ("section", site.section_res),
        ("section_exclude", site.section_exclude_res),
        ("pagination", site.pagination_res),
        ("month_sitemap", site.month_sitemap_res),
    ):
        shown = ", ".join(p.pattern for p in patterns) or "(none)"
        out.print(f"  urls.{key}: {shown}", markup=False)
    out.print(f"  urls.sitemaps: {', '.join(site.sitemap_paths) or '(none)'}", markup=False)
    out.print(f"  urls.feeds: {', '.join(site.feed_paths) or '(none)'}", markup=False)
    names = site.profile
    out.print(f"  title suffix: {names.title_suffix_re.pattern}", markup=False)
    for u in url or []:
        out.print(
            json_for_terminal(json.dumps(url_report(site, u), ensure_ascii=False)), markup=False
        )
    failed = False
    if page:
        from cli.main import read_page_file
        from transforms.parse import parse_article

        for path in page:
            try:
                article = parse_article(
                    read_page_file(path), None, site=site, fallback_url=site.url(path.name)
                )
            except BaoLaoCaiError as exc:
                print_error(f"{path}: {exc.message}")
                failed = True
                continue
            contract = article.to_contract()
            record: dict[str, object] = {"page": str(path)}
            record.update({k: contract.get(k) for k in _SHOWN})
            record["body_chars"] = len(str(contract.get("body") or ""))
            out.print(json_for_terminal(json.dumps(record, ensure_ascii=False)), markup=False)
            missing = [
                k for k in ("article_id", "title", "published_at", "body") if not contract.get(k)
            ]
            if missing:
                print_warning(f"{path}: the site file yields no {', '.join(missing)}")
                failed = True
    if failed:
        raise typer.Exit(EXIT_BAD_INPUT)


_SHOWN = (
    "url",
    "article_id",
    "title",
    "sapo",
    "author",
    "published_at",
    "category",
    "tags",
    "source",
    "page_kind",
    "extraction_method",
)


def register(app: typer.Typer) -> None:
    app.add_typer(sites_app, name="sites")
