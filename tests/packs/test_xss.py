"""The one Markdown renderer against cross-site scripting: every vector, rendered plain
and with pack file links (files_base), must yield HTML with no script, no event
handler, no dangerous element and no link or image with an unsafe scheme."""

from __future__ import annotations

import pytest

from portal.common.markdown import is_safe_link, render_markdown
from tests.packs.packtools import html_problems, url_problem

FILES_BASE = "/packs/some-pack/1.0.0/files/"

VECTORS = [
    # raw HTML: script and friends
    "<script>alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt src=//evil.example/x.js></ScRiPt>",
    "<script\n>alert(1)</script\n>",
    "text <script>alert(1)</script> inline",
    "<<script>alert(1)//<</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<script/xss src=//evil.example/x.js></script>",
    "```\n</code><script>alert(1)</script>\n```",
    "`</code><script>alert(1)</script>`",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "- <script>alert(1)</script>",
    "# <script>alert(1)</script>",
    "| a |\n|---|\n| <script>alert(1)</script> |",
    # images and event handlers
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\">",
    "<IMG SRC=x ONERROR=alert(1)>",
    "<img src=x onerror=alert(1)//",
    "<img/src=x/onerror=alert(1)>",
    "<img src=`x`onerror=alert(1)>",
    "<body onload=alert(1)>",
    "<div onmouseover=\"alert(1)\">hover</div>",
    "<a href=\"https://ok.example\" onclick=\"alert(1)\">x</a>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    # svg, math, iframe, object, embed, style, base, meta, form
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<svg/onload=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<IFRAME SRC=https://evil.example></IFRAME>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<STYLE>@import 'https://evil.example/x.css';</STYLE>",
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>x</button></form>",
    "<button formaction=\"javascript:alert(1)\">x</button>",
    "<table background=\"javascript:alert(1)\"></table>",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
    # HTML comments, CDATA, processing instructions
    "<!-- <script>alert(1)</script> -->",
    "<!--><script>alert(1)</script>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<?xml version=\"1.0\"?><script>alert(1)</script>",
    "<!DOCTYPE html><script>alert(1)</script>",
    # Markdown links with dangerous schemes
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](javascript:alert(document.cookie))",
    "[x](javascript://comment%0Aalert(1))",
    "[x]( javascript:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](<java script:alert(1)>)",
    "[x](<java\tscript:alert(1)>)",
    "[x](java&#09;script:alert(1))",
    "[x](java&#x09;script:alert(1))",
    "[x](java&#10;script:alert(1))",
    "[x](java&#13;script:alert(1))",
    "[x](&#x01;javascript:alert(1))",
    "[x](&#0;javascript:alert(1))",
    "[x](\x01javascript:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](&#x6A;avascript:alert(1))",
    "[x](&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1))",
    "[x](&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&#x3a;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x](javas&Tab;cript:alert(1))",
    "[x](javas&NewLine;cript:alert(1))",
    "[x](javascript%3Aalert(1))",
    "[x](jav%61script:alert(1))",
    "[x](javascript\\:alert(1))",
    "[x](\\javascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](VBScript:MsgBox(1))",
    "[x](livescript:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](DATA:text/html,alert)",
    "[x](<data:text/html,%3Cscript%3Ealert(1)%3C/script%3E>)",
    "[x](data:application/javascript,alert(1))",
    "[x](file:///etc/passwd)",
    "[x](\u200bjavascript:alert(1))",
    "[x](java\u200bscript:alert(1))",
    "[x](\ufeffjavascript:alert(1))",
    "[x](\u2028javascript:alert(1))",
    "[x](ｊａｖａｓｃｒｉｐｔ:alert(1))",
    "[x](javascript\u0000:alert(1))",
    # images
    "![x](javascript:alert(1))",
    "![x](JaVaScRiPt:alert(1))",
    "![x](&#106;avascript:alert(1))",
    "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![x](data:image/png;base64,iVBORw0KGgo=)",
    "![x](data:text/html,<script>alert(1)</script>)",
    "![x\" onerror=\"alert(1)](https://ok.example/a.png)",
    "![x](https://ok.example/a.png \"title\\\" onerror=\\\"alert(1)\")",
    "![x](x\" onerror=\"alert(1))",
    "![x](<x\" onerror=\"alert(1)>)",
    "[![img](javascript:alert(1))](javascript:alert(2))",
    # autolinks
    "<javascript:alert(1)>",
    "<JAVASCRIPT:alert(1)>",
    "<vbscript:msgbox(1)>",
    "<data:text/html,alert(1)>",
    "<javascript://%0Aalert(1)>",
    "<file:///etc/passwd>",
    "<https://ok.example/\" onmouseover=\"alert(1)>",
    # reference-style links and definitions
    "[x][1]\n\n[1]: javascript:alert(1)",
    "[x]\n\n[x]: javascript:alert(1)",
    "[x][r]\n\n[r]: <javascript:alert(1)> \"title\"",
    "[x][r]\n\n[r]: &#106;avascript:alert(1)",
    "[x][r]\n\n[r]: data:text/html,<script>alert(1)</script>",
    "![x][i]\n\n[i]: javascript:alert(1)",
    "[x][r]\n\n[r]: vbscript:msgbox(1)",
    # link titles, nested brackets and attribute breaking
    "[x](https://ok.example \"title\" onclick=\"alert(1)\")",
    "[x](https://ok.example 'a\\' onclick=alert(1) b')",
    "[x](https://ok.example \"\\\"><script>alert(1)</script>\")",
    "[x](https://ok.example (\"><img src=x onerror=alert(1)>))",
    "[x](https://ok.example/\"onmouseover=\"alert(1))",
    "[x](https://ok.example/'onmouseover='alert(1))",
    "[x](https://ok.example/><script>alert(1)</script>)",
    "[[x](javascript:alert(1))](https://ok.example)",
    "[x]([y](javascript:alert(1)))",
    "[x](javascript:alert(1)\\)",
    "[x](javascript:alert`1`)",
    "[a](javascript:alert(1) \"t\")",
    "[<img src=x onerror=alert(1)>](https://ok.example)",
    "[x](#\" onclick=\"alert(1))",
    "[x](?\" onclick=\"alert(1))",
    "**[x](javascript:alert(1))**",
    "_[x](javascript:alert(1))_",
    "~~[x](javascript:alert(1))~~",
    "| [x](javascript:alert(1)) |\n|---|\n| y |",
    "1. [x](javascript:alert(1))",
    "> [x](javascript:alert(1))",
    # relative links that try to escape into a scheme once files_base is prepended
    "[x](javascript:alert(1)/../x)",
    "[x](./javascript:alert(1))",
    "[x](../../javascript:alert(1))",
    "[x](//evil.example/%2F..)",
    "[x](\\\\evil.example\\x)",
    "![x](media/a.png\" onerror=\"alert(1))",
    # entity and encoding tricks in plain text
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "\\<script>alert(1)\\</script>",
    "<scr\u0000ipt>alert(1)</scr\u0000ipt>",
    "＜script＞alert(1)＜/script＞",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"&#x6A;avascript:alert(1)\">x</a>",
    "<a href=\"jav&#x0A;ascript:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href='vbscript:msgbox(1)'>x</a>",
    "<A HREF=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</A>",
    "<a href=\"javascript:alert(1)\">[x](https://ok.example)</a>",
]

assert len(VECTORS) == len(set(VECTORS)), "duplicate vectors"
assert len(VECTORS) >= 120


def _id(vector: str) -> str:
    return vector.encode("unicode_escape").decode("ascii")[:60]


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{i:03d}-{_id(v)}" for i, v in enumerate(VECTORS)])
@pytest.mark.parametrize("base", [None, FILES_BASE], ids=["plain", "files_base"])
def test_vector_renders_safely(vector, base):
    html = render_markdown(vector, files_base=base, doc_dir="lessons" if base else "")
    problems = html_problems(html)
    assert problems == [], f"{vector!r} rendered to {html!r}: {problems}"


@pytest.mark.parametrize("vector", VECTORS, ids=[f"{i:03d}-{_id(v)}" for i, v in enumerate(VECTORS)])
def test_vector_in_a_longer_document(vector):
    document = f"# Lesson\n\nSome text before.\n\n{vector}\n\nSome text after with [a link](../downloads/a.pdf).\n"
    html = render_markdown(document, files_base=FILES_BASE, doc_dir="lessons")
    assert html_problems(html) == [], f"{vector!r} rendered to {html!r}"
    assert f'href="{FILES_BASE}downloads/a.pdf"' in html


# -- the renderer still renders, and the inspector really inspects ----------------------

@pytest.mark.parametrize("markdown, expected", [
    ("[site](https://www.example.org/a?b=1)", '<a href="https://www.example.org/a?b=1" rel="noopener noreferrer">'),
    ("[mail](mailto:help@example.org)", '<a href="mailto:help@example.org">'),
    ("[call](tel:+18005550100)", '<a href="tel:+18005550100">'),
    ("<https://www.example.org>", '<a href="https://www.example.org" rel="noopener noreferrer">'),
    ("[top](#section)", '<a href="#section">'),
    ("**bold** and _em_", "<strong>bold</strong> and <em>em</em>"),
    ("| a |\n|---|\n| b |", "<table>"),
    ("~~gone~~", "<s>gone</s>"),
])
def test_safe_markdown_still_renders(markdown, expected):
    html = render_markdown(markdown)
    assert expected in html, html
    assert html_problems(html) == []


def test_relative_links_point_at_pack_files():
    html = render_markdown("[h](../downloads/h.pdf) ![p](../media/p.jpg) [frag](../downloads/h.pdf#page=2)",
                           files_base=FILES_BASE, doc_dir="lessons")
    assert f'href="{FILES_BASE}downloads/h.pdf"' in html
    assert f'src="{FILES_BASE}media/p.jpg"' in html
    assert f'href="{FILES_BASE}downloads/h.pdf#page=2"' in html


def test_javascript_link_text_survives_as_text():
    html = render_markdown("[x](javascript:alert(1))")
    assert "<a" not in html and "[x](javascript:alert(1))" in html


@pytest.mark.parametrize("html", [
    '<script>alert(1)</script>',
    '<p><a href="javascript:alert(1)">x</a></p>',
    '<p><a href="  JaVa\tScRiPt:alert(1)">x</a></p>',
    '<p><a href="&#106;avascript:alert(1)">x</a></p>',
    '<p><a href="java&#x09;script:alert(1)">x</a></p>',
    '<p><a href="\u200bjavascript:alert(1)">x</a></p>',
    '<p><img src="data:image/svg+xml;base64,AAAA" alt=""></p>',
    '<p><img src="x" onerror="alert(1)"></p>',
    '<p><a href="vbscript:msgbox(1)">x</a></p>',
    '<p><a href="ftp://x.example/">x</a></p>',
    '<iframe src="https://x.example"></iframe>',
    '<object></object>', '<embed>', '<style>p{}</style>', '<svg></svg>',
    '<p style="color:red">x</p>',
    '<!-- comment -->',
])
def test_inspector_flags_unsafe_html(html):
    assert html_problems(html), f"the inspector missed {html!r}"


@pytest.mark.parametrize("url", ["https://x.example", "http://x.example", "mailto:a@b.example", "tel:+1800",
                                 "/packs/p/1/files/a.pdf", "../a.pdf", "#top", "?q=1", "a/b:c"])
def test_inspector_accepts_safe_urls(url):
    assert url_problem(url) is None


@pytest.mark.parametrize("url", ["javascript:alert(1)", " javascript:alert(1)", "java\tscript:x", "JAVASCRIPT:x",
                                 "\x01javascript:x", "vbscript:x", "data:text/html,x", "file:///etc/passwd",
                                 "java\u200bscript:x", "&#106;avascript:x"])
def test_is_safe_link_refuses_dangerous_urls(url):
    assert not is_safe_link(url)


@pytest.mark.parametrize("url", ["https://x.example", "HTTP://x.example", "mailto:a@b.example", "tel:+18005550100",
                                 "../downloads/a.pdf", "a.pdf", "#frag", "/absolute/path"])
def test_is_safe_link_allows_safe_urls(url):
    assert is_safe_link(url)
