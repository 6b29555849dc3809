"""The malicious corpus: hostile SVGs generated from templates, one class of attack per section.

Every script payload calls `__hit('<sample name>')` (the browser test exposes that function and
counts calls) and every external reference points at `canary`, an HTTP server the browser test
runs, so an execution or a load is observed rather than guessed. The unit tests use an address
nothing listens on.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
XHTML = "http://www.w3.org/1999/xhtml"

UNIT_CANARY = "http://127.0.0.1:9"

CATEGORIES = (
    "script",
    "event-handler",
    "dangerous-url",
    "external-url",
    "foreign-object-html",
    "animation",
    "processing-instruction",
    "hidden-markup",
    "css",
    "dtd-entity",
    "namespace-confusion",
)


@dataclass(frozen=True)
class Sample:
    name: str
    category: str
    svg: str
    # Rejection is the right answer only where no safe document can be made (entity tricks).
    may_reject: bool = False
    # Already inert as XML; dangerous only to a sanitizer that un-escapes text on the way out.
    trap: bool = False


def document(body: str, root: str = "") -> str:
    """A small valid drawing around `body`; the #keep circle must survive sanitizing."""
    return (
        f'<svg xmlns="{SVG}" xmlns:xlink="{XLINK}" viewBox="0 0 100 100" width="100" height="100"{root}>'
        f'<circle id="keep" cx="50" cy="50" r="40" fill="#3a7"/>{body}</svg>'
    )


def malicious_corpus(canary: str = UNIT_CANARY) -> list[Sample]:
    samples: list[Sample] = []
    for category, build in _SECTIONS:
        for name, svg, *flags in build(canary):
            sample = Sample(f"{category}-{name}", category, svg, "reject" in flags, "trap" in flags)
            samples.append(sample)
    names = [s.name for s in samples]
    assert len(names) == len(set(names)), "sample names must be unique"
    return samples


Row = tuple[str, str] | tuple[str, str, str]


def js(name: str) -> str:
    return f"__hit('{name}')"


# --- Scripts in every spelling and namespace -----------------------------------------------------


def _scripts(canary: str) -> Iterator[Row]:
    n = "script"
    yield "plain", document(f"<script>{js(n + '-plain')}</script>")
    yield (
        "cdata",
        document(f'<script type="text/javascript"><![CDATA[{js(n + "-cdata")}]]></script>'),
    )
    yield (
        "ecmascript",
        document(f'<script type="application/ecmascript">{js(n + "-ecmascript")}</script>'),
    )
    yield "module", document(f'<script type="module">{js(n + "-module")}</script>')
    yield "svg-prefix", document(f'<s:script xmlns:s="{SVG}">{js(n + "-svg-prefix")}</s:script>')
    yield (
        "xhtml-prefix",
        document(f'<h:script xmlns:h="{XHTML}">{js(n + "-xhtml-prefix")}</h:script>'),
    )
    yield "xhtml-default", document(f'<script xmlns="{XHTML}">{js(n + "-xhtml-default")}</script>')
    yield "no-namespace", document(f'<script xmlns="">{js(n + "-no-namespace")}</script>')
    yield "href", document(f'<script href="{canary}/script-href.js"/>')
    yield "xlink-href", document(f'<script xlink:href="{canary}/script-xlink.js"/>')
    yield (
        "data-src",
        document(f'<script href="data:text/javascript,{quote(js(n + "-data-src"))}"/>'),
    )
    yield "upper", document(f"<SCRIPT>{js(n + '-upper')}</SCRIPT>")
    yield "mixed-case", document(f"<ScRiPt>{js(n + '-mixed-case')}</ScRiPt>")
    for parent in ("g", "defs", "a", "text", "title", "desc", "switch", "symbol", "clipPath",
                   "pattern", "mask", "marker", "svg", "linearGradient"):  # fmt: skip
        body = f"<{parent}><script>{js(f'{n}-in-{parent}')}</script></{parent}>"
        yield f"in-{parent}", document(body)
    yield (
        "in-style",
        document(f"<style>.a{{fill:red}}<script>{js(n + '-in-style')}</script></style>"),
    )
    yield (
        "after-close-text",
        document(
            f"<text>x</text><script><![CDATA[ var s='</script>'; {js(n + '-after-close-text')} ]]></script>"
        ),
    )
    yield (
        "handler-element",
        document(
            f'<handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">{js(n + "-handler")}</handler>'
        ),
    )
    yield (
        "listener",
        document(
            '<listener xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load" ev:handler="#h"/>'
            f'<handler id="h" type="application/ecmascript">{js(n + "-listener")}</handler>'
        ),
    )


# --- Event-handler attributes --------------------------------------------------------------------

_HANDLER_TARGETS = {
    "svg": lambda a: document("", f" {a}"),
    "g": lambda a: document(f'<g {a}><rect width="10" height="10"/></g>'),
    "rect": lambda a: document(f'<rect width="10" height="10" {a}/>'),
    "circle": lambda a: document(f'<circle r="5" {a}/>'),
    "path": lambda a: document(f'<path d="M0 0h10v10z" {a}/>'),
    "text": lambda a: document(f'<text x="5" y="20" {a}>hi</text>'),
    "a": lambda a: document(f'<a href="#keep" {a}><rect width="9" height="9"/></a>'),
    "image": lambda a: document(f'<image href="#missing" width="9" height="9" {a}/>'),
    "use": lambda a: document(f'<use href="#keep" {a}/>'),
    "animate": lambda a: document(f'<rect width="9" height="9"><animate attributeName="x" from="0" to="9" dur="0.05s" {a}/></rect>'),
    "set": lambda a: document(f'<rect width="9" height="9"><set attributeName="x" to="3" dur="0.05s" {a}/></rect>'),
    "style-el": lambda a: document(f"<style {a}>.a{{fill:red}}</style>"),
    "stop": lambda a: document(f'<linearGradient id="g"><stop offset="0" {a}/></linearGradient>'),
    "feFlood": lambda a: document(f'<filter id="f"><feFlood {a}/></filter>'),
}  # fmt: skip

_EVENTS = (
    "onload", "onclick", "onmouseover", "onfocusin", "onactivate", "onbegin", "onend",
    "onrepeat", "onerror", "onanimationstart", "ontransitionend", "onpointerenter", "onunload",
    "onresize", "onscroll", "onfocus", "onLoad", "ONLOAD", "OnClick", "onmousemove",
)  # fmt: skip


def _event_handlers(canary: str) -> Iterator[Row]:
    targets = list(_HANDLER_TARGETS)
    for i, event in enumerate(_EVENTS):
        # Each event on two different elements, so every element meets several events.
        for target in (targets[i % len(targets)], targets[(i * 5 + 3) % len(targets)]):
            name = f"{event}-{target}"
            yield name, _HANDLER_TARGETS[target](f'{event}="{js("event-handler-" + name)}"')
    yield (
        "xlink-onload",
        document(f'<rect width="5" height="5" xlink:onload="{js("event-handler-xlink-onload")}"/>'),
    )
    yield (
        "svg-prefixed-onload",
        document(
            f'<rect xmlns:s="{SVG}" width="5" height="5" s:onload="{js("event-handler-svg-prefixed-onload")}"/>'
        ),
    )
    yield (
        "xhtml-prefixed-onclick",
        document(
            f'<rect xmlns:h="{XHTML}" width="5" height="5" h:onclick="{js("event-handler-xhtml-prefixed-onclick")}"/>'
        ),
    )
    yield (
        "entity-encoded",
        document(
            '<rect width="5" height="5" onmouseover="&#95;&#95;hit(&#39;event-handler-entity-encoded&#39;)"/>'
        ),
    )
    yield (
        "css-animation-trigger",
        document(
            "<style>@keyframes k{from{opacity:0}to{opacity:1}}.t{animation:k .01s}</style>"
            f'<rect class="t" width="5" height="5" onanimationstart="{js("event-handler-css-animation-trigger")}" '
            f'onanimationend="{js("event-handler-css-animation-trigger")}"/>'
        ),
    )


# --- javascript:, vbscript: and data: URLs -------------------------------------------------------


def _dangerous_urls(canary: str) -> Iterator[Row]:
    def svg_data(name: str) -> str:
        inner = f'<svg xmlns="{SVG}" onload="{js(name)}"><script>{js(name)}</script></svg>'
        return inner

    def schemes(name: str) -> dict[str, str]:
        inner = svg_data(name)
        html = f"<script>{js(name)}</script>"
        return {
            "js": f"javascript:{js(name)}",
            "js-space": f"  javascript:{js(name)}",
            "js-case": f"JaVaScRiPt:{js(name)}",
            "js-tab": f"java&#x09;script:{js(name)}",
            "js-newline": f"java&#10;script:{js(name)}",
            "js-entity": f"&#106;&#97;vascript:{js(name)}",
            "js-html-colon": f"javascript&colon;{js(name)}",
            "vbscript": "vbscript:msgbox(1)",
            "data-html": f"data:text/html,{quote(html)}",
            "data-html-b64": "data:text/html;base64," + base64.b64encode(html.encode()).decode(),
            "data-svg": f"data:image/svg+xml,{quote(inner)}",
            "data-svg-b64": "data:image/svg+xml;base64,"
            + base64.b64encode(inner.encode()).decode(),
            "data-xhtml": f"data:application/xhtml+xml,{quote(html)}",
        }

    wrappers: dict[str, Callable[[str], str]] = {
        "a-href": lambda u: f'<a href="{u}"><rect width="20" height="20"/></a>',
        "a-xlink": lambda u: f'<a xlink:href="{u}"><rect width="20" height="20"/></a>',
        "use-href": lambda u: f'<use href="{u}#x"/>',
        "use-xlink": lambda u: f'<use xlink:href="{u}"/>',
        "image-href": lambda u: f'<image href="{u}" width="20" height="20"/>',
        "image-xlink": lambda u: f'<image xlink:href="{u}" width="20" height="20"/>',
        "feImage": lambda u: f'<filter id="f"><feImage href="{u}"/></filter><rect filter="url(#f)" width="9" height="9"/>',
        "pattern": lambda u: f'<pattern id="p" href="{u}"/>',
        "gradient": lambda u: f'<linearGradient id="g" xlink:href="{u}"/>',
        "textPath": lambda u: f'<text><textPath href="{u}">x</textPath></text>',
        "mpath": lambda u: f'<circle r="2"><animateMotion dur="1s"><mpath href="{u}"/></animateMotion></circle>',
        "animate-href": lambda u: f'<rect width="5" height="5"/><animate href="{u}" attributeName="x" to="5"/>',
    }  # fmt: skip
    wrapper_names = list(wrappers)
    scheme_names = list(schemes("x"))
    # Every scheme through several wrappers and every wrapper with several schemes.
    for i, scheme in enumerate(scheme_names):
        for j in range(3):
            wrapper = wrapper_names[(i * 3 + j) % len(wrapper_names)]
            name = f"{scheme}-{wrapper}"
            yield name, document(wrappers[wrapper](schemes(f"dangerous-url-{name}")[scheme]))
    png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAghmHgQAAAABJRU5ErkJggg=="
    yield (
        "png-in-use",
        document(f'<use href="{png}"/><a href="{png}"><rect width="5" height="5"/></a>'),
    )
    yield (
        "png-with-script-param",
        document(
            f'<image href="data:image/png;charset=javascript:{js("x")};base64,iVBORw0KGgo=" width="5" height="5"/>'
        ),
    )
    yield (
        "svg-disguised-as-png",
        document(
            f'<image href="data:image/png,{quote(svg_data("dangerous-url-disguise"))}" width="5" height="5"/>'
        ),
    )


# --- External URLs -------------------------------------------------------------------------------


def _external_urls(canary: str) -> Iterator[Row]:
    c = canary
    host = c.split("//", 1)[1]
    yield "use-href", document(f'<use href="{c}/use.svg#x"/>')
    yield "use-xlink", document(f'<use xlink:href="{c}/use-xlink.svg#x"/>')
    yield "use-protocol-relative", document(f'<use href="//{host}/rel.svg#x"/>')
    yield "use-relative", document('<use href="sprite.svg#x"/>')
    yield "image-href", document(f'<image href="{c}/image.png" width="9" height="9"/>')
    yield "image-xlink", document(f'<image xlink:href="{c}/image-x.png" width="9" height="9"/>')
    yield "image-svg", document(f'<image href="{c}/image.svg" width="9" height="9"/>')
    yield "image-spaces", document(f'<image href="  {c}/image-sp.png  " width="9" height="9"/>')
    yield (
        "feImage",
        document(
            f'<filter id="f"><feImage href="{c}/fe.png"/></filter><rect filter="url(#f)" width="9" height="9"/>'
        ),
    )
    yield (
        "pattern-href",
        document(
            f'<pattern id="p" href="{c}/pattern.svg#p"/><rect fill="url(#p)" width="9" height="9"/>'
        ),
    )
    yield (
        "gradient-href",
        document(
            f'<linearGradient id="g" href="{c}/grad.svg#g"/><rect fill="url(#g)" width="9" height="9"/>'
        ),
    )
    yield "a-href", document(f'<a href="{c}/link"><text y="20">click</text></a>')
    yield (
        "a-target",
        document(f'<a href="{c}/link2" target="_top"><rect width="9" height="9"/></a>'),
    )
    yield "textPath", document(f'<text><textPath href="{c}/tp.svg#p">x</textPath></text>')
    yield (
        "mpath",
        document(
            f'<circle r="2"><animateMotion dur="1s"><mpath href="{c}/mp.svg#p"/></animateMotion></circle>'
        ),
    )
    for attr in (
        "fill",
        "stroke",
        "filter",
        "mask",
        "clip-path",
        "marker-start",
        "marker-end",
        "cursor",
    ):
        yield f"attr-{attr}", document(f'<path d="M0 0L50 50" {attr}="url({c}/{attr}.svg#x)"/>')
    yield "attr-quoted-url", document(f'<rect width="9" height="9" fill="url(\'{c}/q.svg#x\')"/>')
    yield "attr-upper-url", document(f'<rect width="9" height="9" fill="URL({c}/upper.svg#x)"/>')
    yield "attr-escaped-url", document(f'<rect width="9" height="9" fill="u\\72l({c}/esc.svg#x)"/>')
    yield "attr-fallback", document(f'<rect width="9" height="9" fill="url({c}/fb.svg#x) red"/>')
    yield (
        "attr-var-fallback",
        document(f'<rect width="9" height="9" fill="var(--x, url({c}/var.svg#x))"/>'),
    )
    styles = {
        "background": f"background:url({c}/bg.png)",
        "background-image": f"background-image:url('{c}/bgi.png')",
        "fill": f"fill:url({c}/fill.svg#x)",
        "filter": f"filter:url({c}/filter.svg#f)",
        "mask": f"mask:url({c}/mask.svg#m)",
        "mask-image": f"mask-image:url({c}/mi.png)",
        "clip-path": f"clip-path:url({c}/clip.svg#c)",
        "marker": f"marker:url({c}/marker.svg#m)",
        "cursor": f"cursor:url({c}/cursor.png),auto",
        "border-image": f"border-image:url({c}/bi.png) 30",
        "list-style": f"list-style:url({c}/ls.png)",
        "content": f"content:url({c}/content.png)",
        "image-set": f"fill:image-set('{c}/is.png' 1x)",
        "escaped": f"fill:u\\72 l({c}/escaped.svg#x)",
        "comment-split": f"fill:url(/**/{c}/split.svg#x)",
        "custom-property": f"--p:url({c}/custom.png);fill:var(--p)",
        "behavior": f"behavior:url({c}/x.htc)",
        "moz-binding": f"-moz-binding:url({c}/x.xml#x)",
        "expression": f"width:expression({js('external-url-expr')})",
        "src": f"fill:src('{c}/src.svg#x')",
    }
    for name, declaration in styles.items():
        yield f"style-attr-{name}", document(f'<rect width="9" height="9" style="{declaration}"/>')
    yield (
        "xml-base",
        document(
            f'<g xml:base="{c}/base/"><use href="#keep" x="10"/><image href="img.png" width="5" height="5"/></g>'
        ),
    )


# --- foreignObject and HTML ----------------------------------------------------------------------


def _foreign_html(canary: str) -> Iterator[Row]:
    c = canary

    def fo(html: str) -> str:
        return document(
            f'<foreignObject width="100" height="100"><body xmlns="{XHTML}">{html}</body></foreignObject>'
        )

    yield "fo-script", fo(f"<script>{js('foreign-object-html-fo-script')}</script>")
    yield (
        "fo-img-onerror",
        fo(f'<img src="x" onerror="{js("foreign-object-html-fo-img-onerror")}"/>'),
    )
    yield "fo-iframe", fo(f'<iframe src="{c}/iframe.html"/>')
    yield (
        "fo-iframe-srcdoc",
        fo(
            f'<iframe srcdoc="&lt;script&gt;parent.{js("foreign-object-html-srcdoc")}&lt;/script&gt;"/>'
        ),
    )
    yield (
        "fo-body-onload",
        document(
            f'<foreignObject><body xmlns="{XHTML}" onload="{js("foreign-object-html-fo-body-onload")}"/></foreignObject>'
        ),
    )
    yield "fo-object", fo(f'<object data="{c}/object.svg"/>')
    yield "fo-embed", fo(f'<embed src="{c}/embed.svg"/>')
    yield "fo-link-css", fo(f'<link rel="stylesheet" href="{c}/fo.css"/>')
    yield "fo-meta-refresh", fo(f'<meta http-equiv="refresh" content="0;url={c}/refresh"/>')
    yield "fo-form", fo(f'<form action="{c}/form"><button>go</button></form>')
    yield "fo-video-poster", fo(f'<video poster="{c}/poster.png"/>')
    yield (
        "fo-nested-svg",
        document(
            f'<foreignObject><svg xmlns="{SVG}" onload="{js("foreign-object-html-nested")}"/></foreignObject>'
        ),
    )
    yield (
        "html-iframe-outside-fo",
        document(f'<h:iframe xmlns:h="{XHTML}" src="{c}/bare-iframe.html"/>'),
    )
    yield (
        "html-img-outside-fo",
        document(
            f'<img xmlns="{XHTML}" src="{c}/bare.png" onerror="{js("foreign-object-html-img")}"/>'
        ),
    )
    yield "svg-ns-iframe", document(f'<iframe src="{c}/svgns-iframe.html"/>')
    yield "svg-ns-embed", document(f'<embed src="{c}/svgns-embed.svg"/>')
    yield (
        "math-in-svg",
        document(
            f'<math xmlns="http://www.w3.org/1998/Math/MathML"><mi xlink:href="javascript:{js("x")}">x</mi></math>'
        ),
    )
    yield (
        "switch-fo",
        document(
            f'<switch><foreignObject requiredExtensions="{XHTML}"><iframe xmlns="{XHTML}" src="{c}/switch.html"/></foreignObject>'
            '<text y="20">fallback</text></switch>'
        ),
    )


# --- Animations that rewrite links or handlers ---------------------------------------------------


def _animations(canary: str) -> Iterator[Row]:
    target = '<a id="t" href="#keep"><rect width="30" height="30"/></a>'
    payload = f"javascript:{js('animation')}"
    rows = {
        "animate-href": f'<animate href="#t" attributeName="href" values="{payload}" dur="0.05s" fill="freeze"/>',
        "animate-xlink": f'<animate href="#t" attributeName="xlink:href" values="{payload}" dur="0.05s" fill="freeze"/>',
        "set-href": f'<set href="#t" attributeName="href" to="{payload}" dur="0.05s"/>',
        "set-xlink": f'<set href="#t" attributeName="xlink:href" to="{payload}"/>',
        "set-href-space": f'<set href="#t" attributeName=" href " to="{payload}"/>',
        "set-href-upper": f'<set href="#t" attributeName="HREF" to="{payload}"/>',
        "animate-from-to": f'<animate href="#t" attributeName="href" from="#keep" to="{payload}" dur="0.05s"/>',
        "animate-by": f'<animate href="#t" attributeName="href" by="{payload}"/>',
        "transform-href": f'<animateTransform href="#t" attributeName="href" type="rotate" values="{payload}"/>',
        "set-onclick": f'<set href="#t" attributeName="onclick" to="{js("animation-set-onclick")}"/>',
        "set-onmouseover": f'<set href="#t" attributeName="onmouseover" to="{js("animation-set-onmouseover")}"/>',
        "animate-onload": f'<animate href="#t" attributeName="onload" values="{js("animation-animate-onload")}"/>',
        "set-style": f'<set href="#t" attributeName="style" to="background:url({canary}/anim-style.png)"/>',
        "set-fill-url": f'<set href="#t" attributeName="fill" to="url({canary}/anim-fill.svg#p)" dur="1s"/>',
        "animate-filter-url": f'<animate href="#t" attributeName="filter" values="url({canary}/anim-filter.svg#f);none" dur="1s"/>',
        "set-attributetype-xml": f'<set href="#t" attributeType="XML" attributeName="xlink:href" to="{payload}"/>',
        "nested-in-a": f'<a href="#keep"><set attributeName="href" to="{payload}"/><rect width="5" height="5"/></a>',
        "animate-target": f'<animate attributeName="target" href="#t" to="_top"/><set href="#t" attributeName="href" to="{canary}/anim-nav"/>',
        "set-use-href": f'<use id="u" href="#keep"/><set href="#u" attributeName="href" to="{canary}/anim-use.svg#x"/>',
        "set-image-href": f'<image id="i" width="9" height="9"/><set href="#i" attributeName="href" to="{canary}/anim-img.png" dur="1s"/>',
        "motion-mpath": f'<circle r="2"><animateMotion dur="1s"><mpath xlink:href="{canary}/anim-mpath.svg#p"/></animateMotion></circle>',
    }  # fmt: skip
    for name, body in rows.items():
        yield name, document(target + body)


# --- Processing instructions ---------------------------------------------------------------------


def _processing_instructions(canary: str) -> Iterator[Row]:
    c = canary
    yield "css-stylesheet", f'<?xml-stylesheet type="text/css" href="{c}/pi.css"?>' + document("")
    yield "xsl-stylesheet", f'<?xml-stylesheet type="text/xsl" href="{c}/pi.xsl"?>' + document("")
    yield (
        "data-xsl",
        (
            '<?xml-stylesheet type="text/xsl" href="data:text/xml,'
            + quote(
                f'<x:stylesheet xmlns:x="http://www.w3.org/1999/XSL/Transform"><x:template match="/"><script>{js("pi")}</script></x:template></x:stylesheet>'
            )
            + '"?>'
            + document("")
        ),
    )
    yield (
        "inside-body",
        document(f'<?xml-stylesheet href="{c}/pi-body.css"?><rect width="5" height="5"/>'),
    )
    yield (
        "after-decl",
        f'<?xml version="1.0"?>\n<?xml-stylesheet href="{c}/pi2.css"?>\n' + document(""),
    )
    yield "php-like", document(f"<?php echo '<script>{js('pi-php')}</script>'; ?>")
    yield "in-text", document(f"<text>a<?xml-stylesheet href='{c}/pi3.css'?>b</text>")


# --- Comments and CDATA that hide markup ---------------------------------------------------------


def _hidden_markup(canary: str) -> Iterator[Row]:
    h = "hidden-markup"
    yield "comment-script", document(f"<!--<script>{js(h + '-1')}</script>-->")
    yield (
        "conditional-comment",
        document(f"<!--[if IE]><script>{js(h + '-2')}</script><![endif]-->"),
    )
    # "--" inside a comment is not XML, so rejecting this one is right too.
    yield (
        "comment-bang-close",
        document(f"<!-- --!><img src=x onerror={js(h + '-3')}> -->"),
        "reject",
    )
    yield (
        "comment-in-text",
        document(f"<text y='20'>a<!--</text><script>{js(h + '-4')}</script>-->b</text>"),
    )
    yield (
        "comment-in-style",
        document(f"<style>/*</style><script>{js(h + '-5')}</script>*/ .a{{fill:red}}</style>"),
        "reject",
    )
    yield (
        "cdata-title",
        document(f"<title><![CDATA[</title><img src=x onerror={js(h + '-6')}>]]></title>"),
    )
    yield "cdata-desc", document(f"<desc><![CDATA[<script>{js(h + '-7')}</script>]]></desc>")
    yield (
        "cdata-style",
        document(f"<style><![CDATA[</style><img src=x onerror={js(h + '-8')}>]]></style>"),
    )
    yield (
        "cdata-text",
        document(
            f"<text y='30'><![CDATA[</text></svg><img src=x onerror={js(h + '-9')}>]]></text>"
        ),
    )
    yield (
        "escaped-text",
        document(f"<text y='40'>&lt;/svg&gt;&lt;img src=x onerror={js(h + '-10')}&gt;</text>"),
        "trap",
    )
    yield (
        "attribute-breakout",
        document(
            f'<rect width="5" height="5" class="&quot;&gt;&lt;img src=x onerror={js(h + "-11")}&gt;"/>'
        ),
        "trap",
    )
    yield (
        "title-breakout",
        document(f"<title>&lt;/title&gt;&lt;script&gt;{js(h + '-12')}&lt;/script&gt;</title>"),
        "trap",
    )
    yield (
        "style-html-comment",
        document(
            f"<style>&lt;!--</style><text>--&gt;&lt;img src=x onerror={js(h + '-13')}&gt;</text>"
        ),
        "trap",
    )
    yield (
        "noscript-trick",
        document(
            f'<desc>&lt;noscript&gt;&lt;p title="&lt;/noscript&gt;&lt;img src=x onerror={js(h + "-14")}&gt;"&gt;</desc>'
        ),
        "trap",
    )


# --- CSS that imports, loads or executes ---------------------------------------------------------


def _css(canary: str) -> Iterator[Row]:
    c = canary
    sheets = {
        "import-url": f"@import url({c}/import.css);",
        "import-string": f'@import "{c}/import2.css";',
        "import-escaped": f"@\\69mport url({c}/import3.css);",
        "import-in-media": f"@media all {{ @import url({c}/import4.css); }}",
        "import-after-rule": f".a{{fill:red}} @import url({c}/import5.css);",
        "font-face": f"@font-face {{ font-family: evil; src: url({c}/font.woff) }} text {{ font-family: evil }}",
        "font-face-local": f"@font-face {{ font-family: e2; src: local(Arial), url({c}/font2.woff) }}",
        "namespace": f"@namespace url({c}/ns);",
        "background": f"svg {{ background: url({c}/sheet-bg.png) }}",
        "fill": f"circle {{ fill: url({c}/sheet-fill.svg#p) }}",
        "filter": f"circle {{ filter: url({c}/sheet-filter.svg#f) }}",
        "mask": f"circle {{ mask: url('{c}/sheet-mask.svg#m') }}",
        "cursor": f"circle {{ cursor: url({c}/sheet-cursor.png), auto }}",
        "content": f"circle::after {{ content: url({c}/sheet-content.png) }}",
        "escaped-url": f"circle {{ fill: \\75 rl({c}/sheet-esc.svg#x) }}",
        "upper-url": f"circle {{ fill: URL({c}/sheet-upper.svg#x) }}",
        "image-set": f"circle {{ fill: -webkit-image-set(url({c}/sheet-is.png) 1x) }}",
        "behavior": f"circle {{ behavior: url({c}/sheet.htc) }}",
        "moz-binding": f"circle {{ -moz-binding: url({c}/sheet.xml#b) }}",
        "expression": f"circle {{ width: expression({js('css-expression')}) }}",
        "keyframes-url": f"@keyframes k {{ from {{ fill: url({c}/kf.svg#p) }} to {{ background: url({c}/kf.png) }} }} circle {{ animation: k 1s }}",
        "supports-url": f"@supports (fill: red) {{ circle {{ fill: url({c}/sup.svg#p) }} }}",
        "page": f"@page {{ background: url({c}/page.png) }}",
        "charset-trick": f'@charset "utf-7"; circle {{ fill: url({c}/cs.svg#x) }}',
        "selector-url": f"circle[fill=url({c}/sel)] {{ fill: red }}",
        "custom-property": f"circle {{ --u: url({c}/custom.png); fill: var(--u) }}",
        "unterminated": f"circle {{ fill: url({c}/unterminated.svg#x",
        "bad-string": f"circle {{ fill: url('{c}/bad\nstring') }}",
        "comment-breakout": f"/* */ circle {{ fill: url({c}/cmt.svg#x) }} /*",
    }
    for name, sheet in sheets.items():
        yield name, document(f"<style>{sheet}</style>")
    yield (
        "html-breakout",
        document(
            f"<style>circle {{ fill: red }} &lt;/style&gt;&lt;img src=x onerror={js('css-html-breakout')}&gt;</style>"
        ),
        "trap",
    )
    yield "style-type-js", document(f'<style type="text/javascript">{js("css-type-js")}</style>')
    yield "style-type-xslt", document(f'<style type="text/xsl">@import url({c}/typed.css);</style>')
    yield "style-media-attr", document(f'<style media="url({c}/media)">.a{{fill:red}}</style>')


# --- DTDs and entities ---------------------------------------------------------------------------


def _dtd_entities(canary: str) -> Iterator[Row]:
    c = canary
    yield (
        "xxe-file",
        '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + document("<text>&x;</text>"),
        "reject",
    )
    yield (
        "xxe-http",
        f'<!DOCTYPE svg [<!ENTITY x SYSTEM "{c}/xxe">]>' + document("<text>&x;</text>"),
        "reject",
    )
    yield (
        "parameter-entity",
        f'<!DOCTYPE svg [<!ENTITY % p SYSTEM "{c}/pe.dtd"> %p;]>' + document(""),
        "reject",
    )
    laughs = '<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">'
    yield "billion-laughs", f"<!DOCTYPE svg [{laughs}]>" + document("<text>&c;</text>"), "reject"
    yield (
        "entity-smuggles-js",
        (
            f'<!DOCTYPE svg [<!ENTITY j "javascript:{js("dtd")}">]>'
            + document('<a href="&j;"><rect width="5" height="5"/></a>')
        ),
        "reject",
    )
    yield "external-dtd", f'<!DOCTYPE svg SYSTEM "{c}/external.dtd">' + document("")
    yield (
        "public-dtd",
        f'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "{c}/public.dtd">' + document(""),
    )
    yield (
        "undefined-entity",
        document(f'<a href="&evil;{c}/x"><rect width="5" height="5"/></a>'),
        "reject",
    )
    yield "doctype-inside", document(f'<!DOCTYPE svg SYSTEM "{c}/inner.dtd">'), "reject"


# --- Namespace confusion -------------------------------------------------------------------------


def _namespaces(canary: str) -> Iterator[Row]:
    c = canary
    yield (
        "xlink-rebound",
        (
            f'<svg xmlns="{SVG}" xmlns:xlink="http://evil.invalid/" viewBox="0 0 9 9">'
            f'<circle id="keep" r="4"/><a xlink:href="javascript:{js("ns-1")}"><rect width="5" height="5"/></a></svg>'
        ),
    )
    yield (
        "svg-prefix-root",
        (
            f'<s:svg xmlns:s="{SVG}" viewBox="0 0 9 9" onload="{js("ns-2")}"><s:circle id="keep" r="4"/>'
            f"<s:script>{js('ns-2')}</s:script></s:svg>"
        ),
    )
    yield (
        "xhtml-root",
        f'<svg xmlns="{XHTML}" onload="{js("ns-3")}"><script>{js("ns-3")}</script></svg>',
        "reject",
    )
    yield (
        "no-namespace-root",
        (
            f'<svg viewBox="0 0 9 9" onload="{js("ns-4")}"><circle id="keep" r="4"/><script>{js("ns-4")}</script>'
            f'<image href="{c}/nons.png" width="5" height="5"/></svg>'
        ),
    )
    yield (
        "null-ns-child",
        document(f'<script xmlns="">{js("ns-5")}</script><rect xmlns="" onclick="{js("ns-5")}"/>'),
    )
    yield "html-root-wrapping", f"<html><body>{document('')}</body></html>", "reject"
    yield (
        "xlink-undeclared",
        (
            f'<svg xmlns="{SVG}" viewBox="0 0 9 9"><circle id="keep" r="4"/><use xlink:href="{c}/undecl.svg#x"/>'
            f'<a xlink:href="javascript:{js("ns-7")}"><rect width="5" height="5"/></a></svg>'
        ),
    )
    yield (
        "foreign-attr-namespace",
        document(
            f'<rect xmlns:e="http://evil.invalid/" width="5" height="5" e:href="{c}/foreign-attr" e:style="fill:url({c}/e.svg#x)"/>'
        ),
    )
    yield (
        "uppercase-html-style",
        (
            f'<svg viewBox="0 0 9 9"><circle id="keep" r="4"/><FOREIGNOBJECT><IFRAME src="{c}/upper.html"/></FOREIGNOBJECT>'
            f'<A HREF="javascript:{js("ns-9")}"><RECT width="5" height="5"/></A></svg>'
        ),
    )


_SECTIONS: tuple[tuple[str, Callable[[str], Iterator[Row]]], ...] = (
    ("script", _scripts),
    ("event-handler", _event_handlers),
    ("dangerous-url", _dangerous_urls),
    ("external-url", _external_urls),
    ("foreign-object-html", _foreign_html),
    ("animation", _animations),
    ("processing-instruction", _processing_instructions),
    ("hidden-markup", _hidden_markup),
    ("css", _css),
    ("dtd-entity", _dtd_entities),
    ("namespace-confusion", _namespaces),
)
