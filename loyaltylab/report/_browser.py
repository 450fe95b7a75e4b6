"""Open an HTML report in headless Chromium as a reader would: errors, images, screenshot."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["BrowserCheck", "check_in_browser", "find_chromium", "code_words", "print_to_pdf",
           "CHROMIUM_FLAGS"]

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--disable-crash-reporter", "--disable-dev-shm-usage")
"""Flags for a quiet, offline, throw-away headless Chromium (a fresh ``--user-data-dir``
is added per run)."""

_MARKER = "__loyaltylab_browser_check__"
# Injected at the very top of <head> in a probe copy of the page: it records script errors,
# resources that fail to load (the error event of <img>/<link> is caught in the capture
# phase), content-security-policy violations and console.error calls; after the load event
# it checks every <img> decoded (complete with a natural width) and writes the findings as
# JSON into the DOM, which Chromium prints with --dump-dom.
_PROBE = """<script>(function(){var errs=[];
function add(s){errs.push(String(s).slice(0,300));}
function short(u){u=String(u||'');return u.indexOf('data:')===0?u.slice(0,40)+'...':
 (u.length>160?'...'+u.slice(-160):u);}
window.addEventListener('error',function(e){var t=e.target;
 if(t&&t!==window&&t.tagName){add('failed to load <'+t.tagName.toLowerCase()+'> '+
 short(t.currentSrc||t.src||t.href));}
 else{add('uncaught error: '+(e.message||e));}},true);
window.addEventListener('unhandledrejection',function(e){add('unhandled rejection: '+e.reason);});
document.addEventListener('securitypolicyviolation',function(e){
 add('blocked by content security policy: '+e.violatedDirective+' '+e.blockedURI);});
var ce=console.error;console.error=function(){add('console.error: '+
 Array.prototype.join.call(arguments,' '));return ce.apply(console,arguments);};
window.addEventListener('load',function(){setTimeout(function(){
 var imgs=Array.prototype.slice.call(document.images);
 var bad=imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0&&i.naturalHeight>0);})
  .map(function(i){return (i.alt||'(no alt)')+' <- '+short(i.currentSrc||i.src);});
 var texts=[],w=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT,null),n;
 while((n=w.nextNode())){var el=n.parentElement,t=n.nodeValue.replace(/\\s+/g,' ').trim();
  if(!t||!el||el.closest('script,style,title'))continue;
  var cs=getComputedStyle(el);
  if(cs.visibility==='hidden'||cs.display==='none'||!el.getClientRects().length)continue;
  texts.push(t);}
 var m=document.createElement('pre');m.id='%s';m.textContent=JSON.stringify(
  {images:imgs.length,broken:bad,errors:errs,height:document.body.scrollHeight,texts:texts});
 document.body.appendChild(m);},0);});})();</script>""" % _MARKER  # noqa: UP031 (JavaScript braces)
_CONSOLE_LINE = re.compile(r":CONSOLE[^\]]*\]\s*(.*)")
_ERROR_WORDS = re.compile(r"uncaught|failed to load|refused|error|violat", re.I)


@dataclass
class BrowserCheck:
    """What headless Chromium saw when it opened a page.

    Attributes
    ----------
    images : int
        ``<img>`` elements on the page.
    broken_images : list of str
        Images that did not load or decode (alt text and the start of their source).
    errors : list of str
        Script errors, failed resource loads, content-security-policy violations and
        ``console.error`` calls caught in the page, plus console lines at error level from
        Chromium's own log.
    page_height : int
        Height of the rendered page in CSS pixels.
    texts : list of str
        Every text node a reader sees (rendered, not hidden), whitespace collapsed, in
        document order.
    screenshot : Path or None
        The screenshot, when one was asked for.
    """

    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    page_height: int = 0
    screenshot: Path | None = None
    texts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every image loaded and nothing went wrong."""
        return not self.broken_images and not self.errors


def find_chromium() -> str | None:
    """The path of a Chromium or Chrome executable on PATH, or None.

    Returns
    -------
    str or None
        The executable's path; None when none is installed.
    """
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                 "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def _inject(page: str) -> str:
    # let the probe script run under the page's own content-security policy
    page = re.sub(r"(Content-Security-Policy\"\s+content=\")", r"\1script-src 'unsafe-inline'; ",
                  page, count=1, flags=re.I)
    head = re.search(r"<head[^>]*>", page, re.I)
    if head:
        return page[:head.end()] + _PROBE + page[head.end():]
    return _PROBE + page


def check_in_browser(html_path: str | Path, *, screenshot: str | Path | None = None,
                     window_size: tuple[int, int] = (1280, 2000),
                     chromium: str | None = None, timeout: float = 90) -> BrowserCheck:
    """Open an HTML file in headless Chromium and report errors and unloaded images.

    Two runs of the browser: one loads a copy of the page with a small probe script
    injected at the top of ``<head>`` (it catches errors, failed loads and checks every
    image decoded after the load event; the result is read back with ``--dump-dom``), and
    one takes a screenshot of the unmodified page. Chromium's own console log (``--enable-
    logging=stderr``) is scanned for error lines as well.

    Parameters
    ----------
    html_path : str or Path
        The page to open.
    screenshot : str or Path, optional
        Where to save a PNG screenshot of the page.
    window_size : (width, height)
        Browser window size in pixels for the screenshot.
    chromium : str, optional
        Browser executable; default :func:`find_chromium`.
    timeout : float
        Seconds to wait for each browser run.

    Returns
    -------
    BrowserCheck
    """
    html_path = Path(html_path).resolve()
    if not html_path.is_file():
        raise ValueError(f"check_in_browser: {str(html_path)!r} is not a file; pass the "
                         f"report.html path")
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("check_in_browser needs Chromium; install it with "
                                "`apt-get install -y chromium` (Debian) or pass chromium=")
    with tempfile.TemporaryDirectory(prefix="ll-browser-") as tmp:
        tmp_path = Path(tmp)
        # the probe copy sits next to the page (hidden, removed afterwards) so that any
        # relative links resolve exactly as they do for the page itself
        fd, probe_name = tempfile.mkstemp(prefix=".ll-probe-", suffix=".html",
                                          dir=html_path.parent)
        os.close(fd)
        probe = Path(probe_name)
        probe.write_text(_inject(html_path.read_text(encoding="utf-8")), encoding="utf-8")
        common = list(CHROMIUM_FLAGS)
        dom_cmd = [exe, *common, f"--user-data-dir={tmp_path / 'profile-dom'}",
                   "--enable-logging=stderr", "--v=0", "--virtual-time-budget=10000",
                   "--dump-dom", probe.as_uri()]
        procs = [subprocess.Popen(dom_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True, start_new_session=True)]
        shot = Path(screenshot).resolve() if screenshot is not None else None
        if shot is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            w, h = window_size
            shot_cmd = [exe, *common, f"--user-data-dir={tmp_path / 'profile-shot'}",
                        f"--window-size={w},{h}", f"--screenshot={shot}",
                        "--virtual-time-budget=10000", html_path.as_uri()]
            procs.append(subprocess.Popen(shot_cmd, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True,
                                          start_new_session=True))
        outputs = []
        try:
            for p in procs:
                outputs.append(p.communicate(timeout=timeout))
        except subprocess.TimeoutExpired:
            for p in procs:  # the browser and the helper processes it started
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.communicate()
            raise TimeoutError(f"Chromium did not finish within {timeout} s on "
                               f"{html_path.name}") from None
        finally:
            probe.unlink(missing_ok=True)
    dom, log = outputs[0]
    m = re.search(rf'<pre id="{_MARKER}">(.*?)</pre>', dom, re.S)
    if m is None:
        raise RuntimeError(f"Chromium did not report on {html_path.name}: the page never "
                           f"finished loading (exit code {procs[0].returncode}). Its log "
                           f"ends: {log[-500:]!r}")
    found = json.loads(html.unescape(m.group(1)))
    errors = list(found["errors"])
    for line in log.splitlines():
        c = _CONSOLE_LINE.search(line)
        if c and _ERROR_WORDS.search(c.group(1)):
            errors.append("console: " + c.group(1)[:300])
    if shot is not None and not shot.is_file():
        raise RuntimeError(f"Chromium did not write the screenshot {shot} (exit code "
                           f"{procs[1].returncode}): {outputs[1][1][-500:]!r}")
    return BrowserCheck(images=int(found["images"]), broken_images=list(found["broken"]),
                        errors=errors, page_height=int(found.get("height", 0)),
                        screenshot=shot, texts=list(found.get("texts", [])))


_CODE = re.compile(
    r"(?P<assign>\b[A-Za-z_]\w*=(?!=))"                             # as_of= / period=
    r"|(?P<call>\b[A-Za-z_]\w*\()"                                  # stratify_failing(
    r"|(?P<snake>\b[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]*[A-Za-z0-9]\b)")  # reward_scheme
"""What a code identifier looks like in text: a snake_case word, a ``name=`` assignment
or a ``name(`` call (a word followed by "(" with no space)."""


def code_words(texts: list[str]) -> list[str]:
    """The code identifiers in ``texts`` (see :data:`_CODE`), each with the text around it.

    Parameters
    ----------
    texts : list of str
        Texts a client reads (headings, captions, notes).

    Returns
    -------
    list of str
        One entry per identifier found: the identifier and the text it was found in.

    Examples
    --------
    >>> code_words(["Retention (Kaplan-Meier)", "pass as_of= the date", "NPS = 12",
    ...             "stratify_failing()"])
    ['as_of= in: pass as_of= the date', 'stratify_failing( in: stratify_failing()']
    """
    out = []
    for t in texts:
        for m in _CODE.finditer(t):
            out.append(f"{m.group(0)} in: {t[:160]}")
    return out


def print_to_pdf(html_path: str | Path, pdf_path: str | Path, *,
                 chromium: str | None = None, timeout: float = 120) -> Path:
    """Print a page to PDF with headless Chromium, as the browser's "Save as PDF" does (the
    page's print stylesheet applies).

    Returns
    -------
    Path
        ``pdf_path``.
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path).resolve()
    exe = chromium or find_chromium()
    if exe is None:
        raise FileNotFoundError("print_to_pdf needs Chromium; install it with "
                                "`apt-get install -y chromium` (Debian) or pass chromium=")
    pdf_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ll-print-") as tmp:
        cmd = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={Path(tmp) / 'profile'}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
               "--virtual-time-budget=10000", html_path.as_uri()]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, start_new_session=True)
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise TimeoutError(f"Chromium did not print {html_path.name} within {timeout} s"
                               ) from None
    if not pdf_path.is_file():
        raise RuntimeError(f"Chromium did not write {pdf_path.name} (exit code "
                           f"{proc.returncode}): {err[-500:]!r}")
    return pdf_path
