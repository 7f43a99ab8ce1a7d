/* helpbook theme script: progressive enhancement only; every page works without it.
 * Loaded synchronously in <head>: the saved theme is applied before the first paint. */
(function () {
  'use strict';

  var KEY = 'helpbook-theme';
  var root = document.documentElement;
  root.classList.add('js');

  function load() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function save(value) {
    try { localStorage.setItem(KEY, value); } catch (e) { /* private mode: not remembered */ }
  }

  var saved = load();
  if (saved === 'light' || saved === 'dark') root.dataset.theme = saved;

  var darkQuery = window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  function effectiveTheme() {
    var forced = root.dataset.theme;
    if (forced === 'light' || forced === 'dark') return forced;
    return darkQuery && darkQuery.matches ? 'dark' : 'light';
  }

  function setupThemeToggle() {
    var button = document.querySelector('.theme-toggle');
    if (!button) return;
    var label = button.querySelector('.label');
    function sync() {
      var dark = effectiveTheme() === 'dark';
      button.setAttribute('aria-pressed', dark ? 'true' : 'false');
      // The label names the theme a click switches to.
      if (label) {
        label.textContent = dark
          ? button.getAttribute('data-label-light') || 'Light'
          : button.getAttribute('data-label-dark') || 'Dark';
      }
    }
    button.addEventListener('click', function () {
      var next = effectiveTheme() === 'dark' ? 'light' : 'dark';
      root.dataset.theme = next;
      save(next);
      sync();
    });
    if (darkQuery && darkQuery.addEventListener) darkQuery.addEventListener('change', sync);
    sync();
    button.hidden = false;
  }

  function scrollToCurrent(sidebar) {
    var current = sidebar.querySelector('[aria-current="page"]');
    if (!current || sidebar.scrollHeight <= sidebar.clientHeight) return;
    var top = current.getBoundingClientRect().top - sidebar.getBoundingClientRect().top;
    if (top < 0 || top > sidebar.clientHeight - current.offsetHeight) {
      sidebar.scrollTop += top - sidebar.clientHeight / 3;
    }
  }

  function setupMenu(sidebar) {
    var button = document.querySelector('.menu-toggle');
    if (!button || !sidebar) return;
    function setOpen(open) {
      root.classList.toggle('nav-open', open);
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      if (open) scrollToCurrent(sidebar);
    }
    button.addEventListener('click', function () {
      setOpen(!root.classList.contains('nav-open'));
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && root.classList.contains('nav-open')) {
        setOpen(false);
        button.focus();
      }
    });
    // A click outside the open menu (on the backdrop) closes it.
    document.addEventListener('click', function (event) {
      if (root.classList.contains('nav-open') &&
          !sidebar.contains(event.target) && !button.contains(event.target)) {
        setOpen(false);
      }
    });
    button.hidden = false;
  }

  var live;
  function announce(text) {
    if (!live) {
      live = document.createElement('div');
      live.className = 'visually-hidden';
      live.setAttribute('aria-live', 'polite');
      document.body.appendChild(live);
    }
    live.textContent = '';
    setTimeout(function () { live.textContent = text; }, 50);
  }

  function fallbackCopy(code) {
    var selection = window.getSelection();
    var range = document.createRange();
    range.selectNodeContents(code);
    selection.removeAllRanges();
    selection.addRange(range);
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    if (ok) selection.removeAllRanges(); // on failure the code stays selected for Ctrl+C
    return ok;
  }

  function setupCopyButtons() {
    var buttons = document.querySelectorAll('.code-block .copy-code');
    Array.prototype.forEach.call(buttons, function (button) {
      var code = button.parentNode.querySelector('code');
      if (!code) return;
      var original = button.textContent;
      var timer;
      function done() {
        var message = button.getAttribute('data-copied') || 'Copied';
        button.textContent = message;
        button.classList.add('copied');
        announce(message);
        clearTimeout(timer);
        timer = setTimeout(function () {
          button.textContent = original;
          button.classList.remove('copied');
        }, 2000);
      }
      button.addEventListener('click', function () {
        var text = code.textContent;
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(done, function () {
            if (fallbackCopy(code)) done();
          });
        } else if (fallbackCopy(code)) {
          done();
        }
      });
      button.hidden = false;
    });
  }

  // Wide tables and code that scroll sideways must be reachable from the keyboard.
  function setupScrollers() {
    var boxes = document.querySelectorAll('.table-wrap, .code-block pre');
    Array.prototype.forEach.call(boxes, function (box) {
      if (box.scrollWidth > box.clientWidth && !box.hasAttribute('tabindex')) {
        box.setAttribute('tabindex', '0');
      }
    });
  }

  function init() {
    var sidebar = document.getElementById('sidebar');
    setupThemeToggle();
    setupMenu(sidebar);
    setupCopyButtons();
    setupScrollers();
    if (sidebar) scrollToCurrent(sidebar);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
