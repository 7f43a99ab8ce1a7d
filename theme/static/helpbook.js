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
  function liveRegion() {
    if (!live) {
      live = document.createElement('div');
      live.className = 'visually-hidden';
      live.setAttribute('aria-live', 'polite');
      document.body.appendChild(live);
    }
    return live;
  }
  function announce(text) {
    var region = liveRegion();
    region.textContent = '';
    setTimeout(function () { region.textContent = text; }, 50);
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

  /* ---------- Search ----------
   * Without JavaScript the header box and search.html are plain GET forms answered by the
   * helpbook server. The script adds results as you type (an ARIA 1.2 combobox), the "/" key,
   * and, where search.html is served as a plain file, fills its results from the JSON API. */

  var SEARCH_DEBOUNCE_MS = 120;
  var POPUP_LIMIT = 8;
  var PAGE_LIMIT = 50;
  var RESULTS_MARKER = 'helpbook:search-results';
  var serverMissing = false;

  function siteRoot() {
    return document.body.getAttribute('data-root') || '';
  }

  // "{count} results for “{query}”" -> text. split/join rather than String#replace, which would
  // treat "$&" and friends in someone's query as replacement patterns.
  function fill(template, count, query) {
    return (template || '').split('{count}').join(String(count)).split('{query}').join(query);
  }

  // The same, with the query as a node (the results page shows it in <strong>).
  function fillInto(parent, template, count, queryNode) {
    var parts = (template || '').split('{count}').join(String(count)).split('{query}');
    parts.forEach(function (part, i) {
      if (i > 0) parent.appendChild(queryNode.cloneNode(true));
      if (part) parent.appendChild(document.createTextNode(part));
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // Snippets arrive as HTML: escaped text with <mark> around matches. They are parsed in an inert
  // <template> (no scripts run, nothing loads) and only text and <mark> are rebuilt here, so even
  // if markup ever slipped through the index, no element, attribute or handler reaches the page.
  function appendSnippet(parent, html) {
    var template = document.createElement('template');
    template.innerHTML = String(html || '');
    copyTextAndMarks(template.content, parent);
  }
  function copyTextAndMarks(from, to) {
    Array.prototype.forEach.call(from.childNodes, function (node) {
      if (node.nodeType === 3) {
        to.appendChild(document.createTextNode(node.nodeValue));
      } else if (node.nodeType === 1 && node.nodeName === 'MARK') {
        var mark = document.createElement('mark');
        copyTextAndMarks(node, mark);
        to.appendChild(mark);
      }
      // Anything else is dropped together with its content.
    });
  }

  // The API's urls are site-absolute ("/a/b.html#x"); pages link through the relative root so the
  // site works under any base path. Anything else ("//host", "https:", "javascript:") is refused.
  function resultHref(url) {
    if (typeof url !== 'string' || !/^\/(?![/\\])/.test(url)) return null;
    return siteRoot() + url.slice(1);
  }

  // Resolves to the API's answer. Rejects with an AbortError when superseded, or with anything
  // else when no helpbook server stands behind the page (static hosting answers 404 pages).
  function fetchResults(query, limit, kind, signal) {
    var params = new URLSearchParams();
    params.set('q', query);
    params.set('limit', String(limit));
    if (kind) params.set('kind', kind);
    return fetch(siteRoot() + 'api/search?' + params.toString(), {
      headers: { Accept: 'application/json' },
      signal: signal
    }).then(function (response) {
      return response.json();
    }).then(function (answer) {
      if (!answer || !Array.isArray(answer.results)) throw new Error('not a helpbook search answer');
      return answer;
    });
  }

  // Without the server, "search" is no page at all: send the forms to the static search.html
  // instead, which says that search needs `helpbook serve` rather than showing a 404.
  function noServer() {
    serverMissing = true;
    var forms = document.querySelectorAll('form.site-search, form.search-page-form');
    Array.prototype.forEach.call(forms, function (form) {
      form.action = siteRoot() + 'search.html';
    });
  }

  function isTypingTarget(target) {
    return !!target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.nodeName));
  }

  // "/" focuses the header box from anywhere, except while typing in a field.
  function setupSlashKey(form, input) {
    document.addEventListener('keydown', function (event) {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey ||
          event.defaultPrevented || isTypingTarget(event.target)) return;
      event.preventDefault(); // or the "/" would be typed into the box
      input.focus();
      input.select();
    });
    // Only claimed once it works, i.e. with JavaScript; the CSS shows the "/" hint on html.js.
    input.setAttribute('aria-keyshortcuts', '/');
    if (form.dataset.shortcut) input.title = form.dataset.shortcut;
  }

  // The header box as an ARIA 1.2 combobox: focus stays in the input, the active option is
  // pointed at by aria-activedescendant, and options are real links (middle-click works).
  function setupSearchBox(form) {
    var input = form.querySelector('input[name="q"]');
    if (!input || !window.fetch || !window.URLSearchParams) return;
    var strings = form.dataset;
    liveRegion(); // exists before the first announcement, so that one is not lost

    var popup = element('div', 'search-popup');
    popup.hidden = true;
    var note = element('p', 'search-popup-note');
    note.hidden = true;
    var list = element('div', 'search-popup-list');
    list.id = input.id + '-listbox';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', strings.suggestions || input.placeholder);
    popup.appendChild(note);
    popup.appendChild(list);
    form.appendChild(popup);

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-controls', list.id);
    input.setAttribute('aria-expanded', 'false');

    var timer = null;
    var controller = null;
    var generation = 0;   // bumped per request; an answer from an older one is ignored
    var options = [];     // the option links now in the list
    var active = -1;      // index into options, -1 for none
    var shownQuery = null; // the query the popup's content answers

    function isOpen() { return !popup.hidden; }

    function open() {
      if (document.activeElement !== input) return; // the answer came after the user moved on
      popup.hidden = false;
      list.hidden = options.length === 0;
      // aria-expanded tells whether the listbox shows; a note alone is announced instead.
      input.setAttribute('aria-expanded', options.length ? 'true' : 'false');
    }

    function close() {
      setActive(-1);
      popup.hidden = true;
      input.setAttribute('aria-expanded', 'false');
    }

    function setActive(index) {
      if (options[active]) options[active].setAttribute('aria-selected', 'false');
      active = options[index] ? index : -1;
      if (active < 0) {
        input.removeAttribute('aria-activedescendant');
        return;
      }
      var option = options[active];
      option.setAttribute('aria-selected', 'true');
      input.setAttribute('aria-activedescendant', option.id);
      option.scrollIntoView({ block: 'nearest' });
    }

    function showNote(text) {
      note.textContent = text || '';
      note.hidden = !text;
    }

    function clearOptions() {
      setActive(-1);
      options = [];
      list.textContent = '';
    }

    function addOption(href) {
      var option = element('a', 'search-option');
      option.href = href;
      option.id = list.id + '-' + options.length;
      option.tabIndex = -1; // focus stays in the input; Tab leaves the combobox
      option.setAttribute('role', 'option');
      option.setAttribute('aria-selected', 'false');
      options.push(option);
      list.appendChild(option);
      return option;
    }

    function seeAllHref(query) {
      var url = new URL(form.action, window.location.href);
      url.searchParams.set('q', query);
      return url.href;
    }

    function render(query, answer) {
      clearOptions();
      answer.results.slice(0, POPUP_LIMIT).forEach(function (result) {
        var href = resultHref(result.url);
        if (!href) return;
        var option = addOption(href);
        option.appendChild(element('span', 'search-option-title', String(result.title || '')));
        if (result.section) {
          option.appendChild(document.createTextNode(' '));
          option.appendChild(element('span', 'search-option-section', String(result.section)));
        }
        if (result.snippet) {
          var snippet = element('span', 'search-option-snippet');
          option.appendChild(document.createTextNode(' '));
          appendSnippet(snippet, result.snippet);
          option.appendChild(snippet);
        }
      });
      var total = typeof answer.total === 'number' ? answer.total : options.length;
      var message;  // shown above the list
      var spoken;   // announced in the live region
      if (options.length) {
        var count = fill(total === 1 ? strings.resultsOne : strings.resultsMany, total, query);
        message = answer.fuzzy ? answer.reason || strings.fuzzy || '' : '';
        spoken = message ? count + ' ' + message : count;
        // Last: the full results page, with the kind filter and more than eight results.
        var all = addOption(seeAllHref(query));
        all.classList.add('search-option-all');
        all.textContent = fill(strings.seeAll, total, query);
      } else {
        message = fill(strings.noResults, 0, query) + (answer.reason ? ' ' + answer.reason : '');
        spoken = message;
      }
      showNote(message);
      shownQuery = query;
      open();
      if (isOpen()) announce(spoken);
    }

    function showNeedsServer(query) {
      clearOptions();
      var already = shownQuery !== null && note.textContent === strings.needsServer;
      showNote(strings.needsServer);
      shownQuery = query;
      open();
      if (!already) announce(strings.needsServer);
    }

    // Forgets any request in flight or waiting for the debounce.
    function cancel() {
      clearTimeout(timer);
      if (controller) controller.abort();
      controller = null;
      generation += 1;
    }

    function search(query) {
      cancel();
      if (serverMissing) {
        showNeedsServer(query);
        return;
      }
      var mine = generation;
      controller = window.AbortController ? new AbortController() : null;
      if (!isOpen()) {
        clearOptions();
        showNote(strings.loading);
        open();
      }
      fetchResults(query, POPUP_LIMIT, '', controller && controller.signal).then(function (answer) {
        if (mine !== generation) return; // out of order: a newer request owns the popup
        controller = null;
        render(query, answer);
      }, function (error) {
        if (mine !== generation || (error && error.name === 'AbortError')) return;
        controller = null;
        noServer();
        showNeedsServer(query);
      });
    }

    function reset() {
      cancel();
      clearOptions();
      showNote('');
      shownQuery = null;
      close();
    }

    function schedule() {
      var query = input.value.trim();
      if (!query) {
        reset(); // nothing to look for: no request, no popup
        return;
      }
      clearTimeout(timer);
      timer = setTimeout(function () { search(query); }, SEARCH_DEBOUNCE_MS);
    }

    // Shows what is already known for the current text, or asks for it.
    function reopen() {
      var query = input.value.trim();
      if (!query) return;
      if (query === shownQuery) open();
      else search(query);
    }

    function follow(option) {
      close();
      window.location.href = option.href;
    }

    input.addEventListener('input', function (event) {
      if (event.isComposing) return; // mid-IME (pinyin…): wait for compositionend
      setActive(-1);
      schedule();
    });
    input.addEventListener('compositionend', schedule);
    input.addEventListener('focus', function () {
      if (input.value.trim() && input.value.trim() === shownQuery) open();
    });

    input.addEventListener('keydown', function (event) {
      // While an IME is composing, Enter and the arrows belong to it.
      if (event.isComposing || event.keyCode === 229) return;
      switch (event.key) {
        case 'ArrowDown':
        case 'ArrowUp':
          event.preventDefault(); // keeps the caret where it is
          if (!isOpen()) {
            reopen();
            return;
          }
          if (!options.length) return;
          var step = event.key === 'ArrowDown' ? 1 : -1;
          var next = active + step;
          if (active < 0 && step < 0) next = options.length - 1;
          // Wraps around, as the APG combobox examples do.
          setActive((next + options.length) % options.length);
          return;
        case 'Enter':
          if (isOpen() && active >= 0) {
            event.preventDefault();
            follow(options[active]);
          } else {
            cancel(); // the form goes to the full results page
          }
          return;
        case 'Escape':
          // First Escape closes; the second clears (and keeps the browser's own clearing out).
          if (isOpen()) {
            close();
          } else if (input.value) {
            input.value = '';
            reset();
          } else {
            return;
          }
          event.preventDefault();
          event.stopPropagation(); // one Escape, one effect (the menu listens on document)
          return;
      }
    });

    // The input keeps focus while the pointer picks an option, so the popup does not close
    // under it on blur; the click then follows the link as usual.
    popup.addEventListener('mousedown', function (event) { event.preventDefault(); });
    list.addEventListener('click', function (event) {
      var option = event.target.closest && event.target.closest('[role="option"]');
      if (option && !event.defaultPrevented) close();
    });
    // Focus leaving the box (Tab, even to the submit button) closes the popup.
    form.addEventListener('focusout', function (event) {
      if (event.relatedTarget !== input && !popup.contains(event.relatedTarget)) close();
    });
    document.addEventListener('click', function (event) {
      if (isOpen() && !form.contains(event.target)) close();
    });
    form.addEventListener('submit', cancel);

    setupSlashKey(form, input);
  }

  // search.html served as a plain file: the server has not replaced the marker, so read the
  // query from the address, put it back in the form, and ask the API directly.
  function setupResultsPage(headerForm) {
    var box = document.getElementById('search-results');
    if (!box || !window.fetch || !window.URLSearchParams) return;
    var hasMarker = Array.prototype.some.call(box.childNodes, function (node) {
      return node.nodeType === 8 && node.nodeValue.trim() === RESULTS_MARKER;
    });
    if (!hasMarker) return;

    function text(name) {
      return box.dataset[name] || (headerForm && headerForm.dataset[name]) || '';
    }
    function status(message) {
      statusLine(box).textContent = message;
    }

    var params = new URLSearchParams(window.location.search);
    var raw = params.get('q') || '';
    var query = raw.trim();
    var kind = params.get('kind') || '';
    var input = document.querySelector('[data-search-query]');
    var form = input && input.form;
    var select = form && form.querySelector('select[name="kind"]');
    if (input) input.value = raw;
    var kindLabels = Object.create(null); // no inherited keys: "constructor" is not a kind
    if (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        kindLabels[option.value] = option.textContent;
        if (option.value === kind) select.value = kind;
      });
    }

    if (!query) {
      status(text('emptyQuery'));
      return;
    }
    status(text('loading'));
    fetchResults(query, PAGE_LIMIT, kindLabels[kind] ? kind : '', null).then(function (answer) {
      renderResultsPage(box, query, answer, text, kindLabels);
    }, function () {
      noServer();
      status(text('needsServer'));
    });
  }

  // The box's one role="status" paragraph, emptied, and nothing else left in the box. It is
  // kept across updates rather than replaced: screen readers announce a change inside a live
  // region reliably, a freshly inserted region much less so.
  function statusLine(box) {
    var line = box.querySelector('.search-summary');
    if (!line) {
      box.textContent = ''; // also drops the marker comment
      line = element('p', 'search-summary');
      line.setAttribute('role', 'status');
      box.appendChild(line);
    }
    while (line.previousSibling) box.removeChild(line.previousSibling);
    while (line.nextSibling) box.removeChild(line.nextSibling);
    line.textContent = '';
    return line;
  }

  // Builds the same markup the server puts in place of the marker.
  function renderResultsPage(box, query, answer, text, kindLabels) {
    var results = answer.results.filter(function (result) { return resultHref(result.url); });
    var total = typeof answer.total === 'number' ? answer.total : results.length;
    var strong = element('strong', '', query);
    var summary = statusLine(box);

    if (!results.length) {
      fillInto(summary, text('noResults'), 0, strong);
      box.appendChild(element('p', 'search-reason', answer.reason || text('noResultsTip')));
      return;
    }
    fillInto(summary, total === 1 ? text('resultsOne') : text('resultsMany'), total, strong);
    if (answer.fuzzy) box.appendChild(element('p', 'search-note', answer.reason || text('fuzzy')));

    var list = element('ol', 'search-results-list');
    results.forEach(function (result) {
      var item = element('li', 'search-result');
      var link = element('a', 'search-result-link');
      link.href = resultHref(result.url);
      link.appendChild(element('span', 'search-result-title', String(result.title || '')));
      if (result.section) {
        link.appendChild(document.createTextNode(' '));
        link.appendChild(element('span', 'search-result-section', String(result.section)));
      }
      item.appendChild(link);
      var kind = kindLabels[result.kind];
      if (result.kind && kind) {
        item.appendChild(document.createTextNode(' '));
        item.appendChild(element('span', 'search-result-kind', kind));
      }
      if (result.snippet) {
        var snippet = element('p', 'search-result-snippet');
        appendSnippet(snippet, result.snippet);
        item.appendChild(snippet);
      }
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function setupSearch() {
    var form = document.querySelector('form.site-search');
    if (form) setupSearchBox(form);
    setupResultsPage(form);
  }

  function init() {
    var sidebar = document.getElementById('sidebar');
    setupThemeToggle();
    setupMenu(sidebar);
    setupCopyButtons();
    setupScrollers();
    setupSearch();
    if (sidebar) scrollToCurrent(sidebar);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
