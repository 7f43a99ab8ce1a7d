// helpbook preview: reloads this page when it is rebuilt, swaps the stylesheets when only CSS
// changed, keeps the scroll position across a reload, and shows the site's errors over the page
// until they are fixed. Served by `helpbook serve` only; never part of the built site.
(function () {
  "use strict";
  var SCROLL_KEY = "helpbook-preview-scroll:" + location.pathname;
  var version = null;
  var dismissed = null;

  function restoreScroll() {
    var saved;
    try {
      saved = sessionStorage.getItem(SCROLL_KEY);
    } catch (e) {
      return;
    }
    if (!saved) return;
    var xy = saved.split(",").map(Number);
    window.scrollTo(xy[0] || 0, xy[1] || 0);
    // Images and fonts can move the page after it is parsed: once more when it has loaded.
    window.addEventListener("load", function () {
      window.scrollTo(xy[0] || 0, xy[1] || 0);
      try {
        sessionStorage.removeItem(SCROLL_KEY);
      } catch (e) {}
    });
  }

  function reload() {
    try {
      sessionStorage.setItem(SCROLL_KEY, window.scrollX + "," + window.scrollY);
    } catch (e) {}
    location.reload();
  }

  // This page's output path as the preview names rebuilt pages: `guide/setup.html`.
  function here() {
    var path = decodeURIComponent(location.pathname).replace(/^\/+/, "");
    if (path === "" || path.slice(-1) === "/") path += "index.html";
    return path;
  }

  function swapStylesheets() {
    var links = document.querySelectorAll('link[rel="stylesheet"]');
    Array.prototype.forEach.call(links, function (link) {
      var url = new URL(link.href, location.href);
      if (url.origin !== location.origin) return;
      url.searchParams.set("helpbook-v", String(Date.now()));
      var fresh = link.cloneNode();
      fresh.href = url.toString();
      // The old sheet goes once the new one applies, so the page never shows unstyled.
      fresh.addEventListener("load", function () {
        link.remove();
      });
      fresh.addEventListener("error", function () {
        link.remove();
      });
      link.after(fresh);
    });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  var STYLE =
    "#helpbook-overlay{position:fixed;inset:0;z-index:2147483647;background:rgba(20,20,24,.72);" +
    "overflow:auto;padding:4vh 4vw;font:15px/1.5 system-ui,sans-serif;color:#1b1b1f}" +
    "#helpbook-overlay .hb-panel{max-width:60rem;margin:0 auto;background:#fff;border-radius:8px;" +
    "border-top:6px solid #c62828;padding:1.25rem 1.5rem;box-shadow:0 8px 30px rgba(0,0,0,.35)}" +
    "#helpbook-overlay h2{margin:0 0 .25rem;font-size:1.2rem;color:#b71c1c}" +
    "#helpbook-overlay .hb-note{margin:0 0 1rem;color:#444}" +
    "#helpbook-overlay li{margin:0 0 1rem;list-style:none}" +
    "#helpbook-overlay ol{padding:0;margin:0}" +
    "#helpbook-overlay .hb-where{font:600 14px/1.4 ui-monospace,monospace;color:#0d47a1}" +
    "#helpbook-overlay .hb-message{margin:.15rem 0;font-weight:600}" +
    "#helpbook-overlay .hb-help{margin:.15rem 0;color:#2e7d32}" +
    "#helpbook-overlay pre{margin:.4rem 0 0;padding:.6rem .8rem;background:#f5f5f7;border-radius:4px;" +
    "overflow:auto;font:13px/1.45 ui-monospace,monospace;white-space:pre}" +
    "#helpbook-overlay button{float:right;font:inherit;padding:.3rem .8rem;cursor:pointer}" +
    "@media (prefers-color-scheme:dark){#helpbook-overlay .hb-panel{background:#1e1e22;color:#eee}" +
    "#helpbook-overlay .hb-note{color:#bbb}#helpbook-overlay .hb-where{color:#90caf9}" +
    "#helpbook-overlay .hb-help{color:#a5d6a7}#helpbook-overlay pre{background:#2a2a30;color:#eee}}";

  function hideOverlay() {
    var old = document.getElementById("helpbook-overlay");
    if (old) old.remove();
  }

  function showOverlay(message) {
    var errors = (message.problems || []).filter(function (p) {
      return p.severity === "error";
    });
    hideOverlay();
    if (!errors.length || dismissed === message.version) return;
    var root = el("div");
    root.id = "helpbook-overlay";
    root.setAttribute("role", "alertdialog");
    root.setAttribute("aria-modal", "true");
    root.setAttribute("aria-labelledby", "helpbook-overlay-title");
    var style = el("style", null, STYLE);
    var panel = el("div", "hb-panel");
    var close = el("button", null, "Dismiss");
    close.type = "button";
    close.addEventListener("click", function () {
      dismissed = message.version;
      hideOverlay();
    });
    var title = el(
      "h2",
      null,
      errors.length === 1 ? "1 error in the site" : errors.length + " errors in the site"
    );
    title.id = "helpbook-overlay-title";
    var note = el(
      "p",
      "hb-note",
      "The last good version of each page is still served. Fix the file and save: this closes by itself."
    );
    var list = el("ol");
    errors.forEach(function (p) {
      var item = el("li");
      var where = p.file || "";
      if (p.line) where += ":" + p.line + (p.column ? ":" + p.column : "");
      if (where) item.appendChild(el("div", "hb-where", where));
      item.appendChild(el("p", "hb-message", p.message));
      if (p.help) item.appendChild(el("p", "hb-help", "help: " + p.help));
      if (p.snippet) item.appendChild(el("pre", null, p.snippet));
      list.appendChild(item);
    });
    panel.appendChild(close);
    panel.appendChild(title);
    panel.appendChild(note);
    panel.appendChild(list);
    root.appendChild(style);
    root.appendChild(panel);
    (document.body || document.documentElement).appendChild(root);
    close.focus();
  }

  function handle(message) {
    var first = version === null;
    var changed = version !== null && message.version !== version;
    version = message.version;
    // Which rebuild this page has heard of (tests and the curious read it).
    document.documentElement.setAttribute("data-preview-version", String(version));
    showOverlay(message);
    // The first message on (re)connecting is the state as it is; a rebuild this page missed
    // while disconnected still reloads it.
    if (first) return;
    if (message.type === "css" && changed) {
      swapStylesheets();
    } else if (message.type === "reload" && changed) {
      if (message.all || (message.pages || []).indexOf(here()) >= 0) reload();
    }
  }

  restoreScroll();
  if (!window.EventSource) return;
  var source = new EventSource("/_helpbook/live");
  source.onmessage = function (event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (e) {
      return;
    }
    handle(message);
  };
  window.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && document.getElementById("helpbook-overlay")) {
      dismissed = version;
      hideOverlay();
    }
  });
})();
