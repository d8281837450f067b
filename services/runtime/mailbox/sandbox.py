"""The headers under which anything a mail holds is served (its HTML, attachments, the raw
message): no script in it runs, nothing is fetched from outside, nothing is sniffed into HTML."""

from urllib.parse import quote

# `sandbox` gives the document an opaque origin without scripts, forms, popups or plugins;
# `default-src 'none'` blocks every fetch (tracking pixels, remote fonts and styles), images
# only from data: (cid: references are inlined as data: URIs before serving).
MAIL_CONTENT_POLICY = "sandbox; default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'"

# The mailbox's own pages: no script at all, styles and frames from the mailbox only.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; frame-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


def mail_content_headers(download_as: str | None = None) -> dict[str, str]:
    """Headers for mail content; with `download_as`, saved under that file name, not shown."""
    headers = {
        "Content-Security-Policy": MAIL_CONTENT_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    if download_as is not None:
        headers["Content-Disposition"] = content_disposition(download_as)
    return headers


def page_headers() -> dict[str, str]:
    return {"Content-Security-Policy": PAGE_POLICY, "X-Content-Type-Options": "nosniff"}


def content_disposition(filename: str) -> str:
    """`attachment` with the name in ASCII for old clients and in full (RFC 6266, 5987)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
