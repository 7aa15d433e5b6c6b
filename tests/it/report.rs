//! What analysts open: report.html (self-contained, escaped, rendered in headless Chromium with no console
//! error) and the REFI-QDA codebook (parsed back with a real XML parser).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::{Dir, quick_suggest, repo_file};

/// The shipped corpus plus a quote whose text is markup and a study whose name needs escaping.
fn corpus_with_markup(dir: &Dir) -> PathBuf {
    let mut text = std::fs::read_to_string(repo_file("corpora/peer-support/quotes.csv")).unwrap();
    text.push_str(
        "q-markup,S&P <1>,participant,\"<script>alert('owned')</script> The <b>ward</b> staff & the peer \
         workers met every week, and the peer workers felt valued.\",B5\n",
    );
    dir.write("quotes.csv", text)
}

fn suggest(dir: &Dir, input: &Path, out: &str, qdc: &str) -> String {
    quick_suggest(dir, input, "6", out, &["--export-qdc", qdc])
}

#[test]
fn report_html_is_self_contained_and_escapes_every_text() {
    let dir = Dir::new();
    let input = corpus_with_markup(&dir);
    suggest(&dir, &input, "out", "themes.qdc");
    let page = std::fs::read_to_string(dir.path("out/report.html")).unwrap();
    for element in ["id=\"summary\"", "id=\"theme-sizes\"", "id=\"study-coverage\"", "id=\"quote-map\"", "<svg"] {
        assert!(page.contains(element), "report.html lacks {element}");
    }
    assert_eq!(page.matches("<article class=\"theme\"").count(), 6);
    // No script, no external resource: the SVG namespace is the only URL, and it is never fetched.
    let lower = page.to_lowercase();
    assert!(!lower.contains("<script"), "a script element in report.html");
    for fetch in ["src=", "@import", "url(", "<link", "https://"] {
        assert!(!lower.contains(fetch), "report.html refers to an external resource ({fetch})");
    }
    assert_eq!(lower.matches("http://").count(), lower.matches("http://www.w3.org/2000/svg").count());
    // The markup quote and the study name appear as text. The quote is in the page only if chosen as a
    // representative; the study is always in the coverage heat map.
    assert!(page.contains("S&amp;P &lt;1&gt;"), "study name escaped");
    assert!(!page.contains("S&P <1>"));
    assert!(!page.contains("<b>ward</b>"));
}

#[test]
fn qdc_codebook_parses_back_with_stable_guids_and_escaped_text() {
    let dir = Dir::new();
    let input = corpus_with_markup(&dir);
    let summary = suggest(&dir, &input, "one", "one.qdc");
    assert!(summary.contains("wrote the themes as a REFI-QDA codebook to one.qdc"), "{summary}");
    suggest(&dir, &input, "two", "two.qdc");
    let text = std::fs::read_to_string(dir.path("one.qdc")).unwrap();
    assert_eq!(text, std::fs::read_to_string(dir.path("two.qdc")).unwrap(), "same themes, same codebook");

    let doc = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "CodeBook");
    assert_eq!(root.tag_name().namespace(), Some("urn:QDA-XML:codebook:1.0"));
    assert!(root.attribute("origin").unwrap().starts_with("themata "));
    let codes: Vec<_> = root.children().filter(|n| n.is_element()).collect();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].tag_name().name(), "Codes");
    let parent = codes[0].children().find(|n| n.is_element()).unwrap();
    assert_eq!(parent.attribute("isCodable"), Some("false"));
    let themes: Vec<_> = parent.children().filter(|n| n.has_tag_name("Code")).collect();
    assert_eq!(themes.len(), 6);
    let uuid = |s: &str| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
            && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
    };
    let mut guids = Vec::new();
    let mut studies_seen = false;
    for code in &themes {
        let guid = code.attribute("guid").unwrap();
        assert!(uuid(guid), "{guid}");
        guids.push(guid.to_string());
        assert!(code.attribute("name").unwrap().starts_with("Theme "));
        assert_eq!(code.attribute("isCodable"), Some("true"));
        let color = code.attribute("color").unwrap();
        assert!(color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit()));
        let description = code.children().find(|n| n.has_tag_name("Description")).unwrap().text().unwrap();
        assert!(description.starts_with("Top words: "), "{description}");
        studies_seen |= description.contains("S&P <1> (1)");
    }
    assert!(studies_seen, "the study named S&P <1> round-trips through the XML escaping");
    guids.sort();
    guids.dedup();
    assert_eq!(guids.len(), 6, "one GUID per theme");
}

fn chromium() -> PathBuf {
    let path =
        std::env::var_os("THEMATA_CHROMIUM").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "no Chromium at {}: run `bash scripts/test.sh` (it installs Debian's chromium), or set THEMATA_CHROMIUM",
        path.display()
    );
    path
}

/// Runs headless Chromium on a local page with `what` (`--dump-dom` or `--screenshot=FILE`); returns
/// (standard output, the console messages it logged).
fn render(dir: &Dir, page: &Path, what: &str) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1200,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(what)
        .arg(format!("file://{}", page.display()))
        .current_dir(dir.root.path())
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    let console = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    (String::from_utf8_lossy(&output.stdout).into_owned(), console)
}

#[test]
fn report_renders_in_headless_chromium_without_console_errors() {
    let dir = Dir::new();
    // The console check must be able to fail: a page with an error is caught.
    let bad = dir.write("bad.html", "<html><body><script>console.error('boom'); missing();</script></body></html>");
    let (_, console) = render(&dir, &bad, "--dump-dom");
    assert!(console.iter().any(|l| l.contains("boom")), "the console check sees errors: {console:?}");

    let input = corpus_with_markup(&dir);
    suggest(&dir, &input, "out", "themes.qdc");
    dir.run(&["compare", "--suggested", "out", "--manual", input.to_str().unwrap()]).ok();
    let page = dir.path("out/report.html");
    let (dom, console) = render(&dir, &page, "--dump-dom");
    assert!(console.is_empty(), "console messages: {console:?}");
    for element in [
        "id=\"summary\"",
        "id=\"theme-table\"",
        "id=\"theme-sizes\"",
        "id=\"study-coverage\"",
        "id=\"quote-map\"",
        "id=\"comparison\"",
        "id=\"agreement-heatmap\"",
    ] {
        assert!(dom.contains(element), "the rendered page lacks {element}");
    }
    assert_eq!(dom.matches("<article class=\"theme\"").count(), 6);
    assert!(dom.matches("<circle").count() >= 455, "every quote on the map");
    assert!(!dom.contains("<script"), "no script element in the rendered page");
    assert!(dom.contains("S&amp;P &lt;1&gt;"), "the study name renders as text");

    let shot = dir.path("report.png");
    let (_, console) = render(&dir, &page, &format!("--screenshot={}", shot.display()));
    assert!(console.is_empty(), "console messages: {console:?}");
    let png = std::fs::read(&shot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG file");
    assert!(png.len() > 50_000, "a screenshot with content, not a blank page ({} bytes)", png.len());
}

/// With as many representative quotes as quotes, the markup quote is surely on the page: as text.
#[test]
fn a_quote_holding_markup_renders_as_text() {
    let dir = Dir::new();
    let mut text = std::fs::read_to_string(repo_file("corpora/peer-support/tiny.csv")).unwrap();
    text.push_str("q-markup,S99,participant,\"<script>alert('owned')</script> I felt <b>valued</b> & heard.\",B5\n");
    let input = dir.write("tiny.csv", text);
    dir.run(&[
        "suggest",
        input.to_str().unwrap(),
        "--k",
        "2",
        "--quotes",
        "20",
        "--stability-runs",
        "1",
        "--lsa-dims",
        "5",
    ])
    .ok();
    let page = std::fs::read_to_string(dir.path("themata-out/report.html")).unwrap();
    assert!(
        page.contains(
            "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt; I felt &lt;b&gt;valued&lt;/b&gt; &amp; heard."
        ),
        "the quote, escaped"
    );
    assert!(!page.to_lowercase().contains("<script"));
    let (dom, console) = render(&dir, &dir.path("themata-out/report.html"), "--dump-dom");
    assert!(console.is_empty(), "{console:?}");
    assert!(
        dom.contains("&lt;script&gt;alert('owned')&lt;/script&gt; I felt &lt;b&gt;valued&lt;/b&gt; &amp; heard."),
        "rendered as text"
    );
    assert!(!dom.contains("<script") && !dom.contains("<b>valued</b>"));
}
