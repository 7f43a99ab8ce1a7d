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

  function setupCopyButtons(scope) {
    var buttons = (scope || document).querySelectorAll('.code-block .copy-code');
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
  function setupScrollers(scope) {
    var boxes = (scope || document).querySelectorAll('.table-wrap, .code-block pre');
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
  // With a `searchId` the production server records the search for this tab's session.
  function fetchResults(query, limit, kind, signal, searchId) {
    var params = new URLSearchParams();
    params.set('q', query);
    params.set('limit', String(limit));
    if (kind) params.set('kind', kind);
    if (searchId) {
      params.set('session', sessionId());
      params.set('search_id', searchId);
    }
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
    // One id per search-as-you-type session: the server keeps the last query typed under it.
    // A new one starts in an empty box: typed from empty, after a result was opened, and after
    // Escape cleared the box. The results still shown keep the id they were found under.
    var searchId = null;
    var searchOver = false; // a result was opened: the next keystroke starts a new search

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
        option.setAttribute('data-rank', String(options.length));
        option.setAttribute('data-url', result.url);
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
      var signal = controller && controller.signal;
      fetchResults(query, POPUP_LIMIT, '', signal, searchId).then(function (answer) {
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
      searchId = null;
      searchOver = false;
      close();
    }

    function schedule() {
      var query = input.value.trim();
      if (!query) {
        reset(); // nothing to look for: no request, no popup
        return;
      }
      newSearchIfOver();
      clearTimeout(timer);
      timer = setTimeout(function () { search(query); }, SEARCH_DEBOUNCE_MS);
    }

    // Shows what is already known for the current text, or asks for it.
    function reopen() {
      var query = input.value.trim();
      if (!query) return;
      if (query === shownQuery) {
        open();
        return;
      }
      newSearchIfOver();
      search(query);
    }

    // An option is being opened: a result is a click of this search; "See all results" takes
    // the search's id along to the results page. Either way the search is over.
    function opened(option) {
      var rank = Number(option.getAttribute('data-rank'));
      if (rank >= 1) {
        recordClick(searchId, option.getAttribute('data-url'), rank);
      } else if (shownQuery) {
        handOff(shownQuery, '', searchId);
      }
      searchOver = true;
    }

    function newSearchIfOver() {
      if (!searchId || searchOver) searchId = randomId();
      searchOver = false;
    }

    function follow(option) {
      opened(option);
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
      if (option && !event.defaultPrevented) {
        opened(option);
        close();
      }
    });
    // A middle click opens the option in a new tab; the popup stays.
    list.addEventListener('auxclick', function (event) {
      var option = event.target.closest && event.target.closest('[role="option"]');
      if (option && event.button === 1) opened(option);
    });
    // Focus leaving the box (Tab, even to the submit button) closes the popup.
    form.addEventListener('focusout', function (event) {
      if (event.relatedTarget !== input && !popup.contains(event.relatedTarget)) close();
    });
    document.addEventListener('click', function (event) {
      if (isOpen() && !form.contains(event.target)) close();
    });
    form.addEventListener('submit', function () {
      cancel();
      // The results page records this search under the same id (one search, not two).
      var query = input.value.trim();
      if (query) handOff(query, '', searchOver || !searchId ? randomId() : searchId);
      searchOver = true;
    });

    setupSlashKey(form, input);
  }

  // The results page. Served by the helpbook server it arrives filled in: the script only
  // records the search and the results opened from it. Served as a plain file the marker is
  // still there, so read the query from the address, put it back in the form, and ask the API.
  function setupResultsPage(headerForm) {
    var box = document.getElementById('search-results');
    if (!box || !window.fetch || !window.URLSearchParams) return;
    var hasMarker = Array.prototype.some.call(box.childNodes, function (node) {
      return node.nodeType === 8 && node.nodeValue.trim() === RESULTS_MARKER;
    });

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
    var kindLabels = Object.create(null); // no inherited keys: "constructor" is not a kind
    if (select) {
      Array.prototype.forEach.call(select.options, function (option) {
        kindLabels[option.value] = option.textContent;
      });
    }
    if (!kindLabels[kind]) kind = ''; // as the server does: an unknown kind is no filter
    var searchId = query ? resultsSearchId(query, kind) : null;
    trackResultClicks(box, searchId);

    if (!hasMarker) {
      // The server does not record the searches of its page (no session): ask it to, with the
      // id the header box used for this query, if it led here. One result is enough.
      if (query && !eventsOff()) fetchResults(query, 1, kind, null, searchId).then(noop, noop);
      return;
    }

    if (input) input.value = raw;
    if (select) select.value = kind;
    if (!query) {
      status(text('emptyQuery'));
      return;
    }
    status(text('loading'));
    fetchResults(query, PAGE_LIMIT, kind, null, searchId).then(function (answer) {
      renderResultsPage(box, query, answer, text, kindLabels);
    }, function () {
      noServer();
      status(text('needsServer'));
    });
  }

  // The search id of the results page for `query`: the one handed over by the search box that
  // led here, or a new one, kept for a reload of the page.
  function resultsSearchId(query, kind) {
    var handed = null;
    try { handed = JSON.parse(tabGet(HANDOFF_KEY) || 'null'); } catch (e) { handed = null; }
    if (handed && handed.q === query && handed.kind === kind && ID_PATTERN.test(handed.id)) {
      return handed.id;
    }
    var id = randomId();
    handOff(query, kind, id);
    return id;
  }

  // A result opened from the list (click, Enter, middle click) is a click of the page's search,
  // ranked by its place in the list.
  function trackResultClicks(box, searchId) {
    if (!searchId) return;
    function track(event) {
      if (event.type === 'auxclick' && event.button !== 1) return;
      var link = event.target.closest && event.target.closest('a.search-result-link');
      if (!link || !box.contains(link)) return;
      var links = box.querySelectorAll('a.search-result-link');
      var rank = Array.prototype.indexOf.call(links, link) + 1;
      recordClick(searchId, sitePath(link.href, true), rank);
    }
    box.addEventListener('click', track);
    box.addEventListener('auxclick', track);
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

  /* ---------- What readers do: views, clicks, "Did this help?", "Still stuck?" ----------
   * `helpbook serve --production` records these (see README.md, "Server"). A tab is known by a
   * random id kept in sessionStorage, never in a cookie; it ties one reader's searches, the
   * results they opened and the pages they read to the ticket they may file. The writer preview
   * (`helpbook serve`) answers 404 to events: the tab then stops sending them. */

  var SESSION_KEY = 'helpbook-session';
  var EVENTS_OFF_KEY = 'helpbook-events-off';
  var PENDING_KEY = 'helpbook-pending-events';
  var HANDOFF_KEY = 'helpbook-search';
  var ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
  var MAX_PENDING = 50;
  var tabMemory = Object.create(null); // stands in where sessionStorage throws (privacy modes)
  var session = null;

  function noop() {}

  function tabGet(key) {
    if (key in tabMemory) return tabMemory[key];
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }
  function tabSet(key, value) {
    tabMemory[key] = value;
    try { window.sessionStorage.setItem(key, value); } catch (e) { /* this page remembers it */ }
  }

  // 8 to 64 of [A-Za-z0-9_-], as the server wants: a UUID, or 32 random hex digits.
  function randomId() {
    var cryptoApi = window.crypto;
    if (cryptoApi && typeof cryptoApi.randomUUID === 'function') return cryptoApi.randomUUID();
    var bytes = new Uint8Array(16);
    if (cryptoApi && cryptoApi.getRandomValues) {
      cryptoApi.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? '0' : '') + b.toString(16);
    }).join('');
  }

  function sessionId() {
    if (!session) {
      session = tabGet(SESSION_KEY);
      if (!session || !ID_PATTERN.test(session)) {
        session = randomId();
        tabSet(SESSION_KEY, session);
      }
    }
    return session;
  }

  // The path of `href` as the server sees it: from the site root, decoded, "/" as "/index.html"
  // (and with the #fragment when `withHash`). The root comes from data-root, so this holds
  // under a base path too.
  function sitePath(href, withHash) {
    var url = new URL(href, window.location.href);
    var base = new URL(siteRoot() + 'index.html', window.location.href).pathname
      .replace(/[^/]*$/, '');
    var path = url.pathname;
    if (path.indexOf(base) === 0) path = '/' + path.slice(base.length);
    if (path.charAt(path.length - 1) === '/') path += 'index.html';
    if (withHash) path += url.hash;
    try { return decodeURIComponent(path); } catch (e) { return path; }
  }
  function pagePath() {
    return sitePath(window.location.href, false);
  }

  // A search the search box hands to the results page it leads to (see resultsSearchId).
  function handOff(query, kind, id) {
    if (query && id) tabSet(HANDOFF_KEY, JSON.stringify({ q: query, kind: kind, id: id }));
  }

  function eventsOff() {
    return !window.fetch || window.location.protocol === 'file:' || tabGet(EVENTS_OFF_KEY) === '1';
  }

  // POSTs `body` as JSON. Resolves to { status, answer } (the parsed JSON body, or null);
  // rejects only when the server could not be reached. `keepalive` lets the request outlive
  // the page, as a click's must: the browser is leaving for the result.
  function postJson(path, body, keepalive) {
    return fetch(siteRoot() + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'same-origin',
      keepalive: !!keepalive
    }).then(function (response) {
      return response.json().then(null, function () { return null; }).then(function (answer) {
        return { status: response.status, answer: answer };
      });
    });
  }

  function readPending() {
    try {
      var list = JSON.parse(tabGet(PENDING_KEY) || '[]');
      return Array.isArray(list) ? list : [];
    } catch (e) {
      return [];
    }
  }

  // Sends view and click events, with any that an earlier page could not deliver. The server
  // acknowledges only what it has committed; on 503, 429 or no connection the events wait in
  // the tab for the next page. Other errors are not retried: the same request would fail again.
  function sendEvents(events) {
    if (eventsOff()) return;
    var pending = readPending();
    if (pending.length) tabSet(PENDING_KEY, '[]'); // taken: a second send must not repeat them
    var all = pending.concat(events.map(function (event) {
      event.session = sessionId();
      return event;
    }));
    function keep() {
      tabSet(PENDING_KEY, JSON.stringify(readPending().concat(all).slice(-MAX_PENDING)));
    }
    postJson('api/events', all, true).then(function (reply) {
      if (reply.status === 404 || reply.status === 405) {
        // No event store here (`helpbook serve` without --production, or static hosting).
        tabSet(EVENTS_OFF_KEY, '1');
        tabSet(PENDING_KEY, '[]');
      } else if (reply.status === 503 || reply.status === 429) {
        keep();
      }
    }, keep);
  }

  function recordClick(searchId, url, rank) {
    if (searchId && typeof url === 'string' && url.charAt(0) === '/' && rank >= 1) {
      sendEvents([{ type: 'click', search_id: searchId, url: url, rank: rank }]);
    }
  }

  // One view per page load; not for the 404 page (its address is whatever was typed) nor the
  // results page (the search itself is recorded).
  function recordView() {
    var classes = document.body.classList;
    if (classes.contains('not-found') || classes.contains('search-page')) return;
    sendEvents([{ type: 'view', url: pagePath() }]);
  }

  // POSTs a form's JSON and resolves to the server's answer; rejects with a sentence for the
  // reader: the server's own `error`, or why there was none, in the form's ticket_failed text.
  function submitJson(path, body, strings) {
    function failed(reason) {
      return (strings.failed || '{reason}').split('{reason}').join(reason);
    }
    return postJson(path, body, false).then(function (reply) {
      if (reply.status >= 200 && reply.status < 300 && reply.answer) return reply.answer;
      var answer = reply.answer;
      var error = answer && typeof answer.error === 'string' ? answer.error : '';
      throw failed(error || 'HTTP ' + reply.status);
    }, function () {
      throw failed(strings.unreachable || '');
    });
  }

  // "Did this help?": Yes sends at once; No asks why (optional) before sending.
  function setupFeedback(scope) {
    var box = (scope || document).querySelector('section.feedback');
    if (!box || !window.fetch) return;
    var answers = box.querySelector('.feedback-answers');
    var yes = box.querySelector('.feedback-yes');
    var no = box.querySelector('.feedback-no');
    var form = box.querySelector('.feedback-form');
    var reasons = box.querySelector('.feedback-reasons');
    var comment = box.querySelector('textarea[name="comment"]');
    var thanks = box.querySelector('.feedback-thanks');
    var alert = box.querySelector('[role="alert"]');
    if (!answers || !yes || !no || !form || !reasons || !comment || !thanks || !alert) return;
    var busy = false;

    function send(event) {
      if (busy) return;
      busy = true;
      alert.textContent = '';
      event.type = 'feedback';
      event.session = sessionId();
      event.url = pagePath();
      submitJson('api/events', event, box.dataset).then(function () {
        busy = false;
        answers.hidden = true;
        form.hidden = true;
        thanks.hidden = false;
        thanks.focus(); // what had focus is gone
      }, function (message) {
        busy = false;
        alert.textContent = message;
      });
    }

    yes.addEventListener('click', function () {
      send({ helpful: true });
    });
    no.addEventListener('click', function () {
      form.hidden = false;
      no.setAttribute('aria-expanded', 'true');
      reasons.focus();
    });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      var reason = form.querySelector('input[name="reason"]:checked');
      var words = comment.value.trim();
      var fields = { helpful: false };
      if (reason) fields.reason = reason.value;
      if (words) fields.comment = words;
      send(fields);
    });
    box.hidden = false;
  }

  // "Still stuck?": without JavaScript the form posts its fields and the server answers with a
  // page. Here the hidden fields are filled in, and the form is sent as JSON so the ticket
  // number shows in place. On a triage page the form also names the tree and the answers given.
  function setupStuck(scope) {
    var forms = (scope || document).querySelectorAll('form.stuck-form');
    Array.prototype.forEach.call(forms, function (form) {
      var holder = form.parentNode;
      var alert = holder.querySelector('[role="alert"]');
      var sent = holder.querySelector('.stuck-sent');
      var busy = false;
      function field(name) {
        return form.elements.namedItem(name);
      }
      function fill() {
        if (field('session')) field('session').value = sessionId();
        if (field('url')) field('url').value = pagePath();
        var box = document.querySelector('[data-search-query]');
        if (field('query') && box) field('query').value = box.value.trim();
      }
      fill();
      form.addEventListener('submit', function (event) {
        fill();
        if (!window.fetch || !alert || !sent) return; // the plain form post still works
        event.preventDefault();
        if (busy) return;
        busy = true;
        alert.textContent = '';
        var ticket = {
          session: field('session').value,
          contact: field('contact').value,
          description: field('description').value,
          url: field('url').value
        };
        if (field('query') && field('query').value) ticket.query = field('query').value;
        if (field('triage_tree') && field('triage_tree').value) {
          ticket.triage_tree = field('triage_tree').value;
          ticket.triage_path = field('triage_path') ? field('triage_path').value : '';
        }
        submitJson('api/tickets', ticket, form.dataset).then(function (answer) {
          busy = false;
          showTicket(sent, answer);
          form.hidden = true;
          sent.focus(); // the button that had focus is gone
        }, function (message) {
          busy = false;
          alert.textContent = message;
        });
      });
    });
  }

  // "Sent. Your ticket number is HB-…": the number in <strong>, easy to select and copy.
  function showTicket(line, answer) {
    var id = String(answer.id || '');
    var parts = String(answer.message || '').split(id || '\u0000');
    line.textContent = '';
    parts.forEach(function (part, i) {
      if (i > 0) line.appendChild(element('strong', 'ticket-id', id));
      if (part) line.appendChild(document.createTextNode(part));
    });
    if (id && parts.length === 1) {
      line.appendChild(document.createTextNode(' '));
      line.appendChild(element('strong', 'ticket-id', id));
    }
  }

  /* ---------- Triage trees ----------
   * Every step of a tree is a real page with plain links, and "Did this fix it?" is a plain
   * form: all of it works without JavaScript. Here a step opens in place (fetched, swapped into
   * <main>, the address pushed to the history, focus on the new question), the answers actually
   * given are kept in history.state (the pages show the shortest way to each step, which a
   * reader may not have taken through a shared question), and each step shown and each answer
   * to "Did this fix it?" is a `triage` event. */

  // The links that move within a tree: answers, next fixes, back, start over, the trail.
  var TRIAGE_LINKS = 'a.triage-option, a.triage-back, a.triage-restart, .triage-trail a, ' +
    '.triage-tree a, .triage-embed-tree a';

  var triageMain = null;      // <main id="content"> once steps open in place
  var triageShown = null;     // { url, tree, answers, article } of the step on screen
  var triageGeneration = 0;   // bumped per navigation; an older answer is dropped
  var triageController = null;
  var triageCache = Object.create(null); // url -> HTML of steps fetched in this tab

  function splitPath(path) {
    return String(path || '').split(',').filter(function (step) { return step; });
  }
  function joinPath(answers) {
    return answers.map(function (answer) { return answer.step; }).join(',');
  }
  function nodeOf(step) {
    var slash = step.indexOf('/');
    return slash < 0 ? step : step.slice(0, slash);
  }
  // The index of the answer given to question `node`, or -1.
  function answerTo(answers, node) {
    for (var i = 0; i < answers.length; i++) {
      if (nodeOf(answers[i].step) === node) return i;
    }
    return -1;
  }
  function withoutHash(href) {
    return String(href).split('#')[0];
  }
  function squash(text) {
    return String(text || '').replace(/\s+/g, ' ').trim();
  }
  function textOf(parent, selector) {
    var node = parent && parent.querySelector(selector);
    return node ? squash(node.textContent) : '';
  }

  // The answers the page itself shows: its data-path, with the question, the answer and the
  // question's page from the trail (one crumb per answer).
  function builtAnswers(article) {
    var crumbs = article.querySelectorAll('.triage-trail li');
    return splitPath(article.getAttribute('data-path')).map(function (step, i) {
      var crumb = crumbs[i];
      var link = crumb && crumb.querySelector('a');
      return {
        step: step,
        question: textOf(crumb, '.triage-trail-question'),
        answer: textOf(crumb, '.triage-trail-answer'),
        url: link ? link.href : ''
      };
    });
  }

  // The answers kept in a history entry, if they can lead to `article`'s step.
  function savedAnswers(state, article) {
    if (!state || state.helpbook !== 'triage' || !Array.isArray(state.answers) ||
        state.tree !== article.getAttribute('data-tree')) return null;
    var answers = state.answers.filter(function (answer) {
      return answer && typeof answer.step === 'string' && answer.step.indexOf('/') > 0;
    }).map(function (answer) {
      return {
        step: answer.step,
        question: String(answer.question || ''),
        answer: String(answer.answer || ''),
        url: String(answer.url || '')
      };
    });
    if (answers.length !== state.answers.length) return null;
    var step = article.getAttribute('data-step') || '';
    var last = answers[answers.length - 1];
    if (step.indexOf('/') > 0) return last && last.step === step ? answers : null; // a fix
    if (!answers.length && article.getAttribute('data-path')) return null;
    return answers;
  }

  // The tree a triage link belongs to, and the answer it gives (null for back, start over…).
  function chosenAnswer(link, answers) {
    var step = link.getAttribute('data-step');
    if (!step || step.indexOf('/') <= 0 || !link.classList.contains('triage-option')) return null;
    var entry = { step: step, question: '', answer: squash(link.textContent), url: '' };
    var tree = '';
    var embed = link.closest('.triage-embed');
    var article = link.closest('article.triage');
    if (embed) {
      var heading = embed.querySelector('.triage-question');
      tree = heading ? heading.id.replace(/^triage-embed-/, '') : '';
      entry.question = squash(heading && heading.textContent);
      var start = embed.querySelector('.triage-embed-tree a');
      entry.url = start ? start.href : '';
    } else if (article) {
      tree = article.getAttribute('data-tree') || '';
      // A next fix answers a question already answered; an option, the one on the page.
      var at = answerTo(answers, nodeOf(step));
      if (at >= 0) {
        entry.question = answers[at].question;
        entry.url = answers[at].url;
      } else {
        entry.question = textOf(article, 'h1.triage-question');
        entry.url = withoutHash(window.location.href);
      }
    }
    return { tree: tree, entry: entry };
  }

  // The answers that lead to the page `article` after following `chosen` (or a link that gives
  // no answer) from the answers `before`: a question answered again replaces its old answer and
  // the ones after it; a question already answered, reached again, forgets its answer onwards.
  function answersAfter(before, chosen, article) {
    var answers = before.slice();
    if (chosen) {
      var at = answerTo(answers, nodeOf(chosen.step));
      if (at >= 0) answers = answers.slice(0, at);
      answers.push(chosen);
    }
    var step = article.getAttribute('data-step') || '';
    if (step.indexOf('/') > 0) {
      var last = answers[answers.length - 1];
      return last && last.step === step ? answers : builtAnswers(article);
    }
    var again = answerTo(answers, step);
    if (again >= 0) return answers.slice(0, again);
    if (chosen) return answers;
    return article.getAttribute('data-path') ? builtAnswers(article) : [];
  }

  function trailLine(answer) {
    return answer.question + ' ' + answer.answer;
  }

  // Shows `answers` wherever the page shows the answers given, when they differ from the
  // shortest way the page was built with: the trail, data-path, the back link, the fields the
  // forms send and the answers pre-filled in the ticket.
  function showAnswers(scope, article, answers) {
    var path = joinPath(answers);
    if (path === (article.getAttribute('data-path') || '')) return;
    var built = builtAnswers(article);
    article.setAttribute('data-path', path);

    var list = article.querySelector('.triage-trail ol');
    if (list) {
      list.textContent = '';
      answers.forEach(function (answer) {
        var item = element('li');
        var link = element('a');
        link.href = answer.url;
        link.appendChild(element('span', 'triage-trail-question', answer.question));
        link.appendChild(document.createTextNode(' '));
        link.appendChild(element('span', 'triage-trail-answer', answer.answer));
        item.appendChild(link);
        list.appendChild(item);
      });
    }
    var back = article.querySelector('a.triage-back');
    var previous = answers[answers.length - 1];
    if (back && previous && previous.url) back.href = previous.url;

    var outcome = scope.querySelector('form.triage-outcome-form');
    if (outcome && outcome.elements.namedItem('path')) outcome.elements.namedItem('path').value = path;
    var oldLines = built.map(trailLine).join('\n');
    var newLines = answers.map(trailLine).join('\n');
    var forms = scope.querySelectorAll('form.stuck-form');
    Array.prototype.forEach.call(forms, function (form) {
      var field = form.elements.namedItem('triage_path');
      if (!field) return;
      field.value = path;
      var text = form.elements.namedItem('description');
      if (text && oldLines && text.defaultValue.indexOf(oldLines) >= 0) {
        // Changes the value too, as long as the reader has not typed in it.
        text.defaultValue = text.defaultValue.split(oldLines).join(newLines);
      }
    });
  }

  // A step shown, or with `outcome`, the answer to its "Did this fix it?". The article's
  // data-path holds the answers actually given (see showAnswers).
  function recordStep(article, outcome) {
    var event = {
      type: 'triage',
      tree: article.getAttribute('data-tree') || '',
      step: article.getAttribute('data-step') || '',
      path: article.getAttribute('data-path') || ''
    };
    if (outcome) event.outcome = outcome;
    sendEvents([event]);
  }

  // With JavaScript, "Still not working?" waits for "No"; a page opened at #not-fixed (the form
  // posted without JavaScript leads there) shows it at once.
  function foldNotFixed(scope) {
    var notFixed = scope.querySelector('.triage-not-fixed');
    if (notFixed && window.location.hash !== '#' + notFixed.id) notFixed.hidden = true;
  }

  // "Did this fix it?": the answer is an event, not a form post, and the page answers in place.
  function setupOutcome(scope) {
    var form = scope.querySelector('form.triage-outcome-form');
    if (!form) return;
    var session = form.elements.namedItem('session');
    if (session) session.value = sessionId(); // for the plain post
    var yes = form.querySelector('button[value="resolved"]');
    var no = form.querySelector('button[value="not_resolved"]');
    var holder = form.parentNode;
    var thanks = holder.querySelector('.triage-thanks');
    var notFixed = scope.querySelector('.triage-not-fixed');
    if (!window.fetch || !yes || !no || !thanks || !notFixed) return;
    var sent = Object.create(null);

    function send(outcome) {
      var article = form.closest('article.triage');
      if (!article || sent[outcome]) return;
      sent[outcome] = true;
      recordStep(article, outcome);
    }

    if (notFixed.id) no.setAttribute('aria-controls', notFixed.id);
    no.setAttribute('aria-expanded', notFixed.hidden ? 'false' : 'true');
    yes.addEventListener('click', function (event) {
      event.preventDefault();
      send('resolved');
      form.hidden = true;
      thanks.hidden = false;
      thanks.focus(); // the button that had focus is gone
    });
    no.addEventListener('click', function (event) {
      event.preventDefault();
      send('not_resolved');
      notFixed.hidden = false;
      no.setAttribute('aria-expanded', 'true');
      var heading = notFixed.querySelector('h2') || notFixed;
      if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
      scrollToTop(notFixed);
      heading.focus({ preventScroll: true });
    });
  }

  // At once, not smoothly (the stylesheet's scroll-behavior): the content has just changed under
  // the reader, and what follows a focus move must not land while the page still moves.
  function scrollToTop(target) {
    try {
      target.scrollIntoView({ block: 'start', behavior: 'instant' });
    } catch (e) {
      target.scrollIntoView(true); // browsers without 'instant'
    }
  }

  // What a page's step needs, on load and after each swap.
  function setupStep(scope) {
    foldNotFixed(scope);
    setupOutcome(scope);
  }

  // The tree of a box embedding a tree's first question.
  function embedTree(scope) {
    var heading = scope.querySelector('.triage-embed .triage-question');
    return heading ? heading.id.replace(/^triage-embed-/, '') : '';
  }

  function triageState() {
    return { helpbook: 'triage', tree: triageShown.tree, answers: triageShown.answers };
  }

  // Links relative to the page stop working once the address changes without a page load:
  // those outside <main> that are not swapped with it are made absolute, once.
  function absoluteLinks(scope) {
    if (!scope) return;
    Array.prototype.forEach.call(scope.querySelectorAll('a[href]'), function (link) {
      if (link.getAttribute('href').charAt(0) !== '#') link.setAttribute('href', link.href);
    });
    Array.prototype.forEach.call(scope.querySelectorAll('form[action]'), function (form) {
      form.setAttribute('action', form.action);
    });
  }

  // Resolves to { url, doc } for a same-origin HTML page with a <main id="content">; with
  // `cached`, from the copy fetched earlier in this tab if there is one.
  function fetchPage(url, signal, cached) {
    function parse(finalUrl, html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      if (!doc.getElementById('content')) throw new Error('no <main id="content">');
      return { url: finalUrl, doc: doc };
    }
    var key = withoutHash(url);
    if (cached && triageCache[key]) {
      return Promise.resolve().then(function () { return parse(url, triageCache[key]); });
    }
    return fetch(url, {
      headers: { Accept: 'text/html' },
      credentials: 'same-origin',
      signal: signal || undefined
    }).then(function (response) {
      var type = response.headers.get('Content-Type') || '';
      if (!response.ok || type.indexOf('text/html') < 0) throw new Error('HTTP ' + response.status);
      var finalUrl = response.redirected && response.url ? response.url : url;
      if (new URL(finalUrl, window.location.href).origin !== window.location.origin) {
        throw new Error('redirected to another site');
      }
      if (response.redirected) finalUrl += new URL(url, window.location.href).hash;
      return response.text().then(function (html) {
        triageCache[withoutHash(finalUrl)] = html;
        return parse(finalUrl, html);
      });
    });
  }

  // Puts the page `doc` (now at the address bar's URL) on screen in place of the current one.
  function swapIn(doc, chosen, state) {
    var main = triageMain;
    var newMain = doc.getElementById('content');

    document.title = doc.title;
    if (doc.documentElement.lang) root.lang = doc.documentElement.lang;
    document.body.className = doc.body.className;
    document.body.setAttribute('data-root', doc.body.getAttribute('data-root') || '');
    [['sidebar', '#sidebar'], ['footer', '.site-footer']].forEach(function (pair) {
      var here = document.querySelector(pair[1]);
      var there = doc.querySelector(pair[1]);
      if (here && there) here.innerHTML = there.innerHTML;
    });

    foldNotFixed(newMain); // before it shows, so it does not flash
    var nodes = Array.prototype.slice.call(newMain.childNodes);
    main.textContent = '';
    nodes.forEach(function (node) { main.appendChild(document.adoptNode(node)); });

    // Only now: the links of the page (its trail) resolve against its own address.
    var article = main.querySelector('article.triage');
    var tree = article ? article.getAttribute('data-tree') || '' : embedTree(main);
    var answers = [];
    if (article) {
      answers = state ? savedAnswers(state, article) : null;
      if (!answers) {
        var before = triageShown && triageShown.tree === tree ? triageShown.answers : [];
        answers = answersAfter(before, chosen && chosen.tree === tree ? chosen.entry : null, article);
      }
    }
    triageShown = {
      url: withoutHash(window.location.href),
      tree: tree,
      answers: answers,
      article: article
    };
    history.replaceState(triageState(), '', window.location.href);

    setupStep(main);
    setupStuck(main);
    setupFeedback(main);
    setupCopyButtons(main);
    setupScrollers(main);
    if (triageShown.article) showAnswers(main, triageShown.article, answers);

    var sidebar = document.getElementById('sidebar');
    if (sidebar) scrollToCurrent(sidebar);
    var heading = main.querySelector('h1') || main;
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    scrollToTop(main);
    heading.focus({ preventScroll: true });
    announce(squash(heading.textContent) || document.title);

    recordView();
    if (triageShown.article) recordStep(triageShown.article);
  }

  // Opens `url` in place; anything going wrong falls back to loading it as usual.
  function openStep(url, link) {
    var mine = ++triageGeneration;
    if (triageController) triageController.abort();
    triageController = window.AbortController ? new AbortController() : null;
    var chosen = link ? chosenAnswer(link, triageShown ? triageShown.answers : []) : null;
    triageMain.setAttribute('aria-busy', 'true');
    if (link) link.classList.add('triage-loading');
    function done() {
      if (mine !== triageGeneration) return false;
      triageController = null;
      triageMain.removeAttribute('aria-busy');
      if (link) link.classList.remove('triage-loading');
      return true;
    }
    fetchPage(url, triageController && triageController.signal, false).then(function (page) {
      if (!done()) return;
      if (withoutHash(page.url) === withoutHash(window.location.href)) {
        history.replaceState(null, '', page.url);
      } else {
        history.pushState(null, '', page.url);
      }
      swapIn(page.doc, chosen, null);
    }).then(null, function (error) {
      if (error && error.name === 'AbortError') return;
      if (mine !== triageGeneration) return;
      done();
      window.location.href = url;
    });
  }

  // Back and forward: the step of that history entry, with the answers it was reached by.
  function restoreStep(state) {
    var mine = ++triageGeneration;
    if (triageController) triageController.abort(); // a step still loading is not wanted now
    triageController = null;
    triageMain.removeAttribute('aria-busy');
    var url = window.location.href;
    fetchPage(url, null, true).then(function (page) {
      if (mine !== triageGeneration) return;
      swapIn(page.doc, null, state);
    }).then(null, function () {
      if (mine === triageGeneration) window.location.reload();
    });
  }

  function isPlainClick(event) {
    return event.button === 0 && !event.defaultPrevented &&
      !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
  }

  function setupTriage() {
    var main = document.getElementById('content');
    if (!main) return;
    var article = main.querySelector('article.triage');
    if (!article && !main.querySelector('.triage-embed')) return;

    setupStep(main);
    var answers = [];
    if (article) {
      answers = savedAnswers(history.state, article) || builtAnswers(article);
      showAnswers(main, article, answers);
      recordStep(article);
    }
    triageShown = {
      url: withoutHash(window.location.href),
      tree: article ? article.getAttribute('data-tree') || '' : embedTree(main),
      answers: answers,
      article: article
    };

    if (!window.fetch || !window.DOMParser || !window.Promise || !window.history ||
        !history.pushState || window.location.protocol === 'file:') return;
    triageMain = main;
    history.replaceState(triageState(), '', window.location.href);
    if ('scrollRestoration' in history) history.scrollRestoration = 'manual';
    absoluteLinks(document.querySelector('.site-header'));

    main.addEventListener('click', function (event) {
      if (!isPlainClick(event)) return;
      var link = event.target.closest && event.target.closest('a[href]');
      if (!link || !main.contains(link) || !link.matches(TRIAGE_LINKS)) return;
      if ((link.target && link.target !== '_self') || link.hasAttribute('download')) return;
      var url = new URL(link.href, window.location.href);
      if (url.origin !== window.location.origin) return;
      if (url.hash && withoutHash(url.href) === withoutHash(window.location.href)) return;
      event.preventDefault();
      openStep(url.href, link);
    });

    window.addEventListener('popstate', function (event) {
      // A jump to an anchor of the page on screen, and back from it, is no new step.
      if (withoutHash(window.location.href) === triageShown.url) return;
      restoreStep(event.state);
    });
  }

  // Glossary terms (see .term in style.css): CSS shows the definition on hover and focus. The
  // script adds what CSS cannot: Esc hides it (WCAG 1.4.13), and a tap on a touch screen, which
  // has no hover, shows the definition first; a second tap opens the glossary. Keys, mice and
  // screen readers follow the link at once.
  function setupTerms() {
    var terms = document.querySelectorAll('.term');
    if (!terms.length) return;
    function closeAll(except) {
      Array.prototype.forEach.call(document.querySelectorAll('.term.open'), function (t) {
        if (t !== except) t.classList.remove('open');
      });
    }
    Array.prototype.forEach.call(terms, function (term) {
      var link = term.querySelector('.term-link');
      if (!link) return;
      var pointer = '';
      link.addEventListener('pointerdown', function (event) {
        pointer = event.pointerType;
      });
      link.addEventListener('click', function (event) {
        var tap = event.detail > 0 && (event.pointerType || pointer) === 'touch';
        pointer = '';
        if (tap && !term.classList.contains('open')) {
          event.preventDefault();
          closeAll(term);
          term.classList.add('open');
        }
      });
      link.addEventListener('blur', function () {
        term.classList.remove('dismissed');
      });
      term.addEventListener('mouseleave', function () {
        term.classList.remove('dismissed');
      });
    });
    document.addEventListener('keydown', function (event) {
      if (event.key !== 'Escape') return;
      Array.prototype.forEach.call(terms, function (term) {
        if (term.matches(':hover') || term.contains(document.activeElement) ||
            term.classList.contains('open')) {
          term.classList.add('dismissed');
          term.classList.remove('open');
        }
      });
    });
    document.addEventListener('click', function (event) {
      if (!event.target.closest || !event.target.closest('.term')) closeAll(null);
    });
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
    setupFeedback();
    setupStuck();
    recordView();
    setupTriage();
    setupTerms();
    if (sidebar) scrollToCurrent(sidebar);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
