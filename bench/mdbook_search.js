#!/usr/bin/env node
// Runs mdBook's own search, as its output ships it, in Node: the page's search code
// (searcher-*.js), elasticlunr (elasticlunr-*.min.js) and the index (searchindex-*.js, or
// searchindex.json for older mdBooks), unchanged, in a VM context with just enough of a DOM
// for the searcher to run. Each query is "typed" (the search bar's keyup handler runs), so
// what is timed is what a reader's browser does on a keystroke: elasticlunr's search with the
// book's options, and a teaser and result link for each of the first `limit_results` results.
// Laying the results out on the page is not included (the DOM here is a stub), nor is it for
// helpbook.
//
// Usage: node mdbook_search.js BOOK_OUTPUT_DIR QUERIES_JSON_FILE [--seconds 10] [--min-rounds 3]
// Prints one JSON object: index load time, queries per second, latency percentiles, answers,
// and the mean time of elasticlunr's lookup alone (lookup_mean).
'use strict';

const fs = require('fs');
const path = require('path');
const vm = require('vm');

function usage() {
  console.error('usage: node mdbook_search.js BOOK_OUTPUT_DIR QUERIES_JSON [--seconds S] [--min-rounds N]');
  process.exit(2);
}

const args = process.argv.slice(2);
if (args.length < 2) usage();
const outDir = args[0];
const queries = JSON.parse(fs.readFileSync(args[1], 'utf8'));
let seconds = 10;
let minRounds = 3;
for (let i = 2; i < args.length; i += 2) {
  if (args[i] === '--seconds') seconds = Number(args[i + 1]);
  else if (args[i] === '--min-rounds') minRounds = Number(args[i + 1]);
  else usage();
}

function find(re) {
  const name = fs.readdirSync(outDir).filter((f) => re.test(f)).sort()[0];
  if (!name) throw new Error(`no file matching ${re} in ${outDir}`);
  return path.join(outDir, name);
}

const searcherFile = find(/^searcher(-[0-9a-f]+)?\.js$/);
const elasticlunrFile = find(/^elasticlunr(-[0-9a-f]+)?\.min\.js$/);
let indexFile;
try {
  indexFile = find(/^searchindex(-[0-9a-f]+)?\.js$/);
} catch (e) {
  indexFile = find(/^searchindex\.json$/);
}

// --- a stub DOM: elements that keep children, classes and listeners -----------------------
class ClassList {
  constructor() { this.set = new Set(); }
  add(c) { this.set.add(c); }
  remove(c) { this.set.delete(c); }
  contains(c) { return this.set.has(c); }
}

class Element {
  constructor(tag, id) {
    this.tagName = tag;
    this.id = id || '';
    this.classList = new ClassList();
    this.children = [];
    this.listeners = {};
    this.value = '';
    this.innerText = '';
    this.innerHTML = '';
    this.attributes = {};
  }
  get firstChild() { return this.children[0] || null; }
  get firstElementChild() { return this.children[0] || null; }
  appendChild(c) { this.children.push(c); return c; }
  append(c) { this.appendChild(c); }
  removeChild(c) { this.children.splice(this.children.indexOf(c), 1); return c; }
  remove() {}
  addEventListener(type, fn) { (this.listeners[type] = this.listeners[type] || []).push(fn); }
  dispatch(type) { for (const fn of this.listeners[type] || []) fn({ type, target: this }); }
  focus() { document.activeElement = this; }
  select() { this.focus(); }
  setAttribute(k, v) { this.attributes[k] = v; }
  querySelector() { return null; }
  querySelectorAll() { return []; }
}

// <a>: parseURL sets href and reads its parts.
class Anchor extends Element {
  set href(url) { this.url = new URL(url, location.href); }
  get href() { return this.url.href; }
  get protocol() { return this.url.protocol; }
  get hostname() { return this.url.hostname; }
  get port() { return this.url.port; }
  get search() { return this.url.search; }
  get pathname() { return this.url.pathname; }
  get hash() { return this.url.hash; }
}

const location = { href: 'http://localhost:3000/index.html' };
const byId = {};
for (const id of ['mdbook-search-wrapper', 'mdbook-searchbar-outer', 'mdbook-searchbar',
  'mdbook-searchresults', 'mdbook-searchresults-outer', 'mdbook-searchresults-header',
  'mdbook-search-toggle', 'mdbook-content']) {
  byId[id] = new Element('div', id);
}
byId['mdbook-search-wrapper'].classList.add('hidden');

let indexLoadMs = null;
const document = {
  activeElement: null,
  getElementById: (id) => byId[id] || null,
  createElement: (tag) => (tag === 'a' ? new Anchor(tag) : new Element(tag)),
  addEventListener: () => {},
  querySelectorAll: () => [],
  head: {
    // The searcher loads the index with a <script> element: run it here, then its onload.
    append(script) {
      const t0 = process.hrtime.bigint();
      const file = path.join(outDir, script.src);
      if (file.endsWith('.json')) {
        Object.assign(context.search, JSON.parse(fs.readFileSync(file, 'utf8')));
      } else {
        vm.runInContext(fs.readFileSync(file, 'utf8'), context, { filename: file });
      }
      script.onload();
      indexLoadMs = Number(process.hrtime.bigint() - t0) / 1e6;
    },
  },
};

class Mark {
  mark() {}
  unmark() {}
}

const context = {
  document,
  location,
  history: {
    pushState: (s, t, url) => { location.href = url; },
    replaceState: (s, t, url) => { location.href = url; },
  },
  Mark,
  URL,
  console,
  path_to_root: '',
  scrollTo: () => {},
  setTimeout: () => {},
  search: {},
};
context.window = context;
vm.createContext(context);
vm.runInContext(fs.readFileSync(elasticlunrFile, 'utf8'), context, { filename: elasticlunrFile });
if (!context.elasticlunr) throw new Error('elasticlunr did not load');
if (indexFile.endsWith('.json')) context.path_to_searchindex_js = path.basename(indexFile);
vm.runInContext(fs.readFileSync(searcherFile, 'utf8'), context, { filename: searcherFile });

// A click on the search icon loads the index (the first search a reader makes).
byId['mdbook-search-toggle'].dispatch('click');
if (indexLoadMs === null) throw new Error('the searcher did not load the index');

const bar = byId['mdbook-searchbar'];
const results = byId['mdbook-searchresults'];
function type(q) {
  bar.value = q;
  bar.dispatch('keyup');
  return results.children.length;
}

// Warm up (the JIT, the index's lazily built structures), and count the answers.
const answered = {};
for (let r = 0; r < 2; r++) {
  for (const q of queries) answered[q] = type(q);
}

const times = [];
const start = process.hrtime.bigint();
let rounds = 0;
while (rounds < minRounds || Number(process.hrtime.bigint() - start) / 1e9 < seconds) {
  for (const q of queries) {
    const t0 = process.hrtime.bigint();
    type(q);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  rounds++;
}
const total = Number(process.hrtime.bigint() - start) / 1e9;
times.sort((a, b) => a - b);

// The same queries through elasticlunr alone (its lookup, without the teasers and links), to
// show where the time goes.
const index = context.elasticlunr.Index.load(context.search.index);
const lookupStart = process.hrtime.bigint();
let lookups = 0;
for (let r = 0; r < rounds && (r < 1 || Number(process.hrtime.bigint() - lookupStart) / 1e9 < seconds); r++) {
  for (const q of queries) {
    index.search(q, context.search.search_options);
    lookups++;
  }
}
const lookupMs = Number(process.hrtime.bigint() - lookupStart) / 1e6 / lookups;
const pct = (p) => times[Math.max(0, Math.min(times.length - 1, Math.round((p / 100) * (times.length - 1))))];

console.log(JSON.stringify({
  searcher: path.basename(searcherFile),
  index: path.basename(indexFile),
  index_bytes: fs.statSync(indexFile).size,
  index_load_ms: indexLoadMs,
  queries: times.length,
  rounds,
  qps: times.length / total,
  p50: pct(50),
  p90: pct(90),
  p99: pct(99),
  max: times[times.length - 1],
  mean: (total * 1000) / times.length,
  lookup_mean: lookupMs,
  answered: Object.values(answered).filter((n) => n > 0).length,
  results: answered,
  heap_mb: process.memoryUsage().rss / 1048576,
}));
