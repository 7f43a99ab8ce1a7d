//! Search benchmark: builds a site (default: the 10,000-page synthetic corpus from
//! `bench/gensite.py`), reports the build and indexing time and the index size per
//! page, then measures in-process query latency (p50, p99) over a mixed set of queries: English,
//! Chinese, mixed, typos, prefixes, filters.
//!
//! ```text
//! python3 bench/gensite.py --pages 10000 --out /tmp/syn10k
//! cargo bench --bench search -- /tmp/syn10k
//! cargo bench --bench search -- /tmp/syn10k --queries-only   # reuse the last build
//! ```
//!
//! A plain `main` (no criterion): it prints percentiles, which is what the targets are stated in.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use helpbook::content::Kind;
use helpbook::search::{SearchIndex, SearchRequest};
use helpbook::{BuildOptions, build};

/// The binary's allocator, so the build time printed here is the binary's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Queries a reader of the synthetic corpus might type.
const QUERIES: &[&str] = &[
    "rate limit 429",
    "certificate verify failed",
    "LDAP synchronisation",
    "ldap sync",
    "recording quota exceeded",
    "websocket closed 1006",
    "TURN server",
    "turn servr unreachable",
    "media server capacity",
    "webhook retry",
    "chat history",
    "captions language",
    "lobby enabled",
    "upload too large",
    "403 forbidden",
    "rooms:write permission",
    "snapshot object storage",
    "breakout rooms",
    "no sound",
    "students can't hear me",
    "recrding missing",
    "certifcate",
    "rec",
    "webh",
    "moderator role",
    "audit log",
    "gdpr export",
    "录像",
    "课程录像 API",
    "API 令牌权限",
    "信令服务报错",
    "媒体服务器",
    "分组讨论室",
    "存储配额",
    "视频很卡怎么办",
    "主持人角色",
    "TURN 中继",
    "HTTP 429 速率限制",
    "the",
    "how do i change the default bitrate for large classes",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn main() {
    // `cargo bench` passes `--bench`; the first other argument is the site.
    let site = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/syn10k"));
    if !site.join("book.toml").is_file() {
        eprintln!(
            "no site at {}: generate one with python3 bench/gensite.py --pages 10000 --out {}",
            site.display(),
            site.display()
        );
        std::process::exit(2);
    }
    let out = std::env::temp_dir().join("helpbook-search-bench-out");
    let queries_only = std::env::args().any(|a| a == "--queries-only");
    if !queries_only {
        build_and_report(&site, &out);
    }
    if !std::env::args().any(|a| a == "--build-only") {
        measure_queries(&out);
    }
}

fn build_and_report(site: &std::path::Path, out: &std::path::Path) {
    let mut options = BuildOptions::new(site);
    options.out_dir = Some(out.to_path_buf());
    // Two builds: the first warms the page cache and the output folder, the second is measured.
    let _ = build(&options);
    let report = build(&options);
    assert!(!report.failed(), "the site builds");
    let stats = report.index.as_ref().expect("indexed");
    println!(
        "build: {} pages in {:.2} s (read+render {:.2} s, write {:.2} s, index {:.2} s in parallel)",
        stats.pages,
        report.elapsed.as_secs_f64(),
        report.load_time.as_secs_f64(),
        report.write_time.as_secs_f64(),
        report.index_time.as_secs_f64()
    );
    println!(
        "index: {} sections, {:.1} MB, {:.1} KB per page",
        stats.sections,
        stats.bytes as f64 / 1e6,
        stats.bytes as f64 / 1e3 / stats.pages as f64
    );
}

fn measure_queries(out: &std::path::Path) {
    let start = Instant::now();
    let index = SearchIndex::open_output(out).expect("index opens");
    println!("open: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);

    let requests: Vec<SearchRequest> = QUERIES
        .iter()
        .flat_map(|q| {
            [
                SearchRequest {
                    query: q.to_string(),
                    limit: 10,
                    ..SearchRequest::default()
                },
                SearchRequest {
                    query: q.to_string(),
                    limit: 10,
                    kind: Some(Kind::Troubleshooting),
                    ..SearchRequest::default()
                },
            ]
        })
        .collect();
    let mut zero = 0;
    for r in &requests {
        if index.search(r).results.is_empty() {
            zero += 1;
        }
    }
    let rounds = 30;
    let mut times = Vec::with_capacity(requests.len() * rounds);
    let mut per_query: Vec<(Duration, &str)> = Vec::new();
    for r in &requests {
        let mut mine = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let t = Instant::now();
            let results = index.search(r);
            std::hint::black_box(&results);
            mine.push(t.elapsed());
        }
        mine.sort();
        per_query.push((
            percentile(&mine, 0.5),
            if r.kind.is_some() {
                "(troubleshooting only)"
            } else {
                r.query.as_str()
            },
        ));
        times.extend(mine);
    }
    times.sort();
    per_query.sort();
    println!(
        "queries: {} searches ({} distinct requests x {rounds}), {} with no result",
        times.len(),
        requests.len(),
        zero
    );
    println!(
        "latency: p50 {:.3} ms, p90 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.9).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times.last().unwrap().as_secs_f64() * 1e3
    );
    let shown = if std::env::args().any(|a| a == "--all") {
        per_query.len()
    } else {
        5
    };
    println!("slowest queries (median):");
    for (t, q) in per_query.iter().rev().take(shown) {
        println!("  {:>8.3} ms  {q}", t.as_secs_f64() * 1e3);
    }
}
