//! report.html: one self-contained page (no script, no network, no external font) with the themes and
//! inline SVG charts: theme sizes, a theme x study coverage heat map, a 2-D map of the quotes, and, after
//! `compare`, a theme x code agreement heat map.
//!
//! `compare` extends the page `suggest` wrote: the comparison goes between two marker comments
//! ([`insert_comparison`]), so running `compare` again replaces it. Every piece of input text is escaped.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::evaluate::Comparison;
use crate::report::SuggestResult;
use crate::report::compare::{agreement_rows, opt};
use crate::themes::Assignment;

const COMPARE_START: &str = "<!-- themata:compare:start -->";
const COMPARE_END: &str = "<!-- themata:compare:end -->";

/// Quotes drawn at most on the 2-D map (an even sample beyond that, so the page stays light).
pub const MAP_MAX_POINTS: usize = 5000;

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The colour of theme `id` (1-based): twenty well-separated colours (Tableau 20 order), then hues
/// spaced by the golden angle.
pub fn theme_color(id: usize) -> String {
    const PALETTE: [&str; 20] = [
        "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ];
    match PALETTE.get(id.wrapping_sub(1)) {
        Some(c) => c.to_string(),
        None => {
            let hue = (id as f64 * 137.507_764) % 360.0;
            hsl_to_hex(hue, 0.55, 0.5)
        }
    }
}

fn hsl_to_hex(h: f64, s: f64, l: f64) -> String {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let x = c * (1.0 - ((h / 60.0) % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let (r, g, b) = match (h / 60.0) as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let byte = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    format!("#{:02x}{:02x}{:02x}", byte(r), byte(g), byte(b))
}

/// A blue of intensity `t` in [0, 1], for heat map cells.
fn heat(t: f64) -> String {
    let t = t.clamp(0.0, 1.0);
    let mix = |lo: f64, hi: f64| (lo + (hi - lo) * t).round() as u8;
    format!("#{:02x}{:02x}{:02x}", mix(247.0, 8.0), mix(251.0, 69.0), mix(255.0, 148.0))
}

/// What report.html shows besides the themes.
pub struct HtmlReport<'a> {
    /// The themes and how k was chosen.
    pub result: &'a SuggestResult<'a>,
    /// Quote ids, in input order.
    pub ids: &'a [&'a str],
    /// Each quote's theme.
    pub assignments: &'a [Assignment],
    /// Each quote's first two LSA coordinates.
    pub map: &'a [(f64, f64)],
    /// LSA dimensions the clustering used.
    pub lsa_dims: usize,
    /// Lines for the page's footer (version, input checksum, seed).
    pub provenance: &'a [String],
}

const STYLE: &str = r#"
:root { --ink: #1d2430; --muted: #5b6573; --line: #d9dee5; --bg: #ffffff; --soft: #f5f7fa; --warn: #9a3412; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: var(--ink); background: var(--bg); }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 64px; }
h1 { font-size: 1.8em; margin: 0.2em 0 0.1em; }
h2 { font-size: 1.35em; margin: 1.6em 0 0.4em; border-bottom: 1px solid var(--line); padding-bottom: 0.2em; }
h3 { font-size: 1.1em; margin: 1.2em 0 0.3em; }
.lede { color: var(--muted); max-width: 60em; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { border: 1px solid var(--line); padding: 4px 9px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1.2em 0; }
figcaption { color: var(--muted); font-size: 0.9em; max-width: 60em; }
svg text { font-family: inherit; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; border-radius: 2px; vertical-align: -0.1em; margin-right: 0.3em; }
.legend { display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 0.88em; margin: 0.4em 0; }
article.theme { border-left: 5px solid var(--theme); padding: 2px 0 2px 16px; margin: 1.6em 0; }
article.theme h2 { border: none; margin-top: 0.4em; }
.facts { color: var(--muted); }
ul.warnings { color: var(--warn); padding-left: 1.2em; }
.terms { margin: 0.3em 0; }
.term { display: inline-block; background: var(--soft); border: 1px solid var(--line); border-radius: 3px;
        padding: 0 6px; margin: 2px 3px 2px 0; font-size: 0.92em; }
blockquote { margin: 0.7em 0; padding: 0.4em 0.9em; background: var(--soft); border-left: 3px solid var(--line); }
blockquote footer { color: var(--muted); font-size: 0.88em; margin-top: 0.2em; }
footer.page { margin-top: 3em; color: var(--muted); font-size: 0.85em; border-top: 1px solid var(--line); padding-top: 0.8em; }
"#;

/// Renders report.html.
pub fn render_report_html(report: &HtmlReport) -> String {
    let result = report.result;
    let mut s = String::new();
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>themata: candidate themes for {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(result.input)
    );
    let _ = write!(
        s,
        "<header id=\"summary\">\n<h1>Candidate themes</h1>\n<p class=\"lede\">{} quotes from <code>{}</code>, \
         {} terms, <strong>{} candidate themes</strong>. These are suggestions from word use, for analysts to \
         confirm against their own reading: check the warnings and read the quotes.</p>\n",
        result.n_quotes,
        escape(result.input),
        result.n_terms,
        result.k
    );
    s.push_str(
        "<table id=\"theme-table\">\n<thead><tr><th>theme</th><th>label</th><th>quotes</th><th>studies</th>\
         <th>largest study</th><th>cohesion</th><th>stability</th><th>warnings</th></tr></thead>\n<tbody>\n",
    );
    for t in result.themes {
        let _ = writeln!(
            s,
            "<tr><td><span class=\"swatch\" style=\"background:{}\"></span><a href=\"#theme-{}\">{}</a></td>\
             <td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.0}%</td>\
             <td class=\"num\">{:.2}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            theme_color(t.id),
            t.id,
            t.id,
            escape(&t.label),
            t.size,
            t.n_studies,
            100.0 * t.largest_study_share,
            t.cohesion,
            super::stability_text(t.stability_reseeded),
            t.warnings.len()
        );
    }
    s.push_str("</tbody>\n</table>\n");
    if let Some(warning) = crate::cluster::k_warning(result.k_table) {
        let _ = writeln!(s, "<ul class=\"warnings\"><li>{}</li></ul>", escape(&warning));
    }
    s.push_str("</header>\n");

    s.push_str("<section id=\"charts\">\n<h2>Overview</h2>\n");
    theme_sizes_svg(&mut s, result);
    study_heatmap_svg(&mut s, result);
    quote_map_svg(&mut s, report);
    s.push_str("</section>\n");

    s.push_str("<section id=\"themes\">\n");
    for t in result.themes {
        let _ = write!(
            s,
            "<article class=\"theme\" id=\"theme-{}\" style=\"--theme:{}\">\n<h2>Theme {}: {}</h2>\n\
             <p class=\"facts\">{} quotes from {} studies; cohesion {:.2}; stability {} when reseeded{}.</p>\n",
            t.id,
            theme_color(t.id),
            t.id,
            escape(&t.label),
            t.size,
            t.n_studies,
            t.cohesion,
            super::stability_text(t.stability_reseeded),
            t.stability_leave_one_study_out.map(|x| format!(", {x:.2} leaving one study out")).unwrap_or_default()
        );
        if !t.warnings.is_empty() {
            s.push_str("<ul class=\"warnings\">");
            for w in &t.warnings {
                let _ = write!(s, "<li>{}</li>", escape(w));
            }
            s.push_str("</ul>\n");
        }
        let terms = |list: &[crate::themes::LabelTerm]| -> String {
            list.iter()
                .map(|w| {
                    format!(
                        "<span class=\"term\" title=\"c-TF-IDF {:.4}; in {} quotes\">{}</span>",
                        w.weight,
                        w.quotes,
                        escape(&w.term)
                    )
                })
                .collect()
        };
        let _ = writeln!(s, "<p class=\"terms\"><strong>Words</strong> {}</p>", terms(&t.words));
        if !t.phrases.is_empty() {
            let _ = writeln!(s, "<p class=\"terms\"><strong>Phrases</strong> {}</p>", terms(&t.phrases));
        }
        let studies: Vec<String> = t.studies.iter().map(|(st, n)| format!("{} ({n})", escape(st))).collect();
        let _ = writeln!(s, "<p class=\"terms\"><strong>Studies</strong> {}</p>", studies.join(", "));
        for q in &t.quotes {
            let _ = writeln!(
                s,
                "<blockquote><p>{}</p><footer>{}, {}, score {:.2}</footer></blockquote>",
                escape(&q.text.split_whitespace().collect::<Vec<_>>().join(" ")),
                escape(&q.id),
                escape(q.study.as_deref().unwrap_or("no study")),
                q.score
            );
        }
        s.push_str("</article>\n");
    }
    s.push_str("</section>\n");
    let _ = writeln!(s, "{COMPARE_START}{COMPARE_END}");
    if result.k_table.len() > 1 {
        s.push_str(
            "<section id=\"k-table\">\n<h2>How k was chosen</h2>\n<p>The k with the highest mean silhouette times \
             squared stability (the mean adjusted Rand index between the k-means restarts); when no k reaches a \
             stability of 0.5, the most stable k.</p>\n\
             <table><thead><tr><th>k</th><th>silhouette</th><th>stability</th><th>score</th><th>inertia</th></tr>\
             </thead><tbody>\n",
        );
        for row in result.k_table {
            let chosen = if row.k == result.k { " <strong>chosen</strong>" } else { "" };
            let _ = writeln!(
                s,
                "<tr><td class=\"num\">{}{chosen}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.3}</td>\
                 <td class=\"num\">{:.4}</td><td class=\"num\">{:.2}</td></tr>",
                row.k, row.silhouette, row.stability, row.score, row.inertia
            );
        }
        s.push_str("</tbody></table>\n");
        if let Some(warning) = crate::cluster::k_warning(result.k_table) {
            let _ = writeln!(s, "<ul class=\"warnings\"><li>{}</li></ul>", escape(&warning));
        }
        s.push_str("</section>\n");
    }
    s.push_str("<footer class=\"page\">");
    for line in report.provenance {
        let _ = write!(s, "{}<br>", escape(line));
    }
    s.push_str("</footer>\n</main>\n</body>\n</html>\n");
    s
}

/// A horizontal bar per theme, coloured as the theme.
fn theme_sizes_svg(s: &mut String, result: &SuggestResult) {
    let (label_w, bar_w, row_h) = (300.0, 420.0, 22.0);
    let max = result.themes.iter().map(|t| t.size).max().unwrap_or(1).max(1) as f64;
    let height = row_h * result.themes.len() as f64 + 10.0;
    let _ = write!(
        s,
        "<figure id=\"theme-sizes\">\n<h3>Quotes per theme</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"Quotes per theme\" \
         width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">\n",
        w = label_w + bar_w + 60.0
    );
    for (i, t) in result.themes.iter().enumerate() {
        let y = 5.0 + row_h * i as f64;
        let width = bar_w * t.size as f64 / max;
        let label = shorten(&format!("{}. {}", t.id, t.label), 42);
        let _ = writeln!(
            s,
            "<g><title>Theme {}: {} ({} quotes)</title><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\">{}</text>\
             <rect x=\"{label_w}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text></g>",
            t.id,
            escape(&t.label),
            t.size,
            label_w - 8.0,
            y + 15.0,
            escape(&label),
            y + 2.0,
            row_h - 6.0,
            theme_color(t.id),
            label_w + width + 5.0,
            y + 15.0,
            t.size
        );
    }
    s.push_str("</svg>\n<figcaption>Quotes per candidate theme, largest first.</figcaption>\n</figure>\n");
}

/// The theme x study coverage matrix: how many quotes each study gives each theme.
fn study_heatmap_svg(s: &mut String, result: &SuggestResult) {
    let mut studies: Vec<&str> =
        result.themes.iter().flat_map(|t| t.studies.iter().map(|(st, _)| st.as_str())).collect();
    studies.sort_unstable();
    studies.dedup();
    if studies.is_empty() {
        return;
    }
    let counts: Vec<BTreeMap<&str, usize>> =
        result.themes.iter().map(|t| t.studies.iter().map(|(st, n)| (st.as_str(), *n)).collect()).collect();
    let max = counts.iter().flat_map(|c| c.values()).copied().max().unwrap_or(1).max(1) as f64;
    let cell = (720.0 / studies.len() as f64).clamp(6.0, 24.0);
    let (left, top) = (230.0, 70.0);
    let width = left + cell * studies.len() as f64 + 10.0;
    let height = top + cell * result.themes.len() as f64 + 10.0;
    let _ = write!(
        s,
        "<figure id=\"study-coverage\">\n<h3>Coverage: themes by study</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"Quotes per theme and study\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\">\n"
    );
    for (j, study) in studies.iter().enumerate() {
        let x = left + cell * (j as f64 + 0.5);
        let _ = writeln!(
            s,
            "<text transform=\"translate({x:.1},{:.1}) rotate(-60)\" font-size=\"11\">{}</text>",
            top - 4.0,
            escape(&shorten(study, 14))
        );
    }
    for (i, t) in result.themes.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            left - 6.0,
            y + cell * 0.5 + 4.0,
            escape(&shorten(&format!("{}. {}", t.id, t.label), 34))
        );
        for (j, study) in studies.iter().enumerate() {
            let n = counts[i].get(study).copied().unwrap_or(0);
            let x = left + cell * j as f64;
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{}\" stroke=\"#ffffff\">\
                 <title>Theme {}, {}: {n} quotes</title></rect>",
                heat(n as f64 / max),
                t.id,
                escape(study)
            );
            if cell >= 16.0 {
                cell_count(s, x, y, cell, n as u64, max);
            }
        }
        s.push('\n');
    }
    s.push_str(
        "</svg>\n<figcaption>Coverage: quotes each study gives each theme (darker is more). A theme carried by one \
         column rests on one study.</figcaption>\n</figure>\n",
    );
}

/// Every quote (or an even sample of [`MAP_MAX_POINTS`]) on the first two LSA components.
fn quote_map_svg(s: &mut String, report: &HtmlReport) {
    let n = report.map.len().min(report.assignments.len()).min(report.ids.len());
    if n == 0 {
        return;
    }
    let step = n.div_ceil(MAP_MAX_POINTS);
    let points: Vec<usize> = (0..n).step_by(step).collect();
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &i in &points {
        let (x, y) = report.map[i];
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let span = |a: f64, b: f64| if b > a { b - a } else { 1.0 };
    let (w, h, pad) = (760.0, 480.0, 24.0);
    let _ = write!(
        s,
        "<figure id=\"quote-map\">\n<h3>Map of the quotes</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"Map of the quotes\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n\
         <rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" stroke=\"#d9dee5\"/>\n\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\" fill=\"#5b6573\">LSA component 1</text>\n\
         <text transform=\"translate(14,{}) rotate(-90)\" font-size=\"11\" fill=\"#5b6573\">LSA component 2</text>\n",
        w - 1.0,
        h - 1.0,
        w - 8.0,
        h - 8.0,
        pad + 90.0
    );
    for &i in &points {
        let (x, y) = report.map[i];
        let px = pad + (w - 2.0 * pad) * (x - x0) / span(x0, x1);
        let py = h - pad - (h - 2.0 * pad) * (y - y0) / span(y0, y1);
        let theme = report.assignments[i].theme;
        let _ = writeln!(
            s,
            "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3.2\" fill=\"{}\" fill-opacity=\"0.8\"><title>{}: theme {}</title></circle>",
            theme_color(theme),
            escape(report.ids[i]),
            theme
        );
    }
    s.push_str("</svg>\n<div class=\"legend\">");
    for t in report.result.themes {
        let _ = write!(
            s,
            "<span><span class=\"swatch\" style=\"background:{}\"></span>{}. {}</span>",
            theme_color(t.id),
            t.id,
            escape(&shorten(&t.label, 30))
        );
    }
    let sampled = if step > 1 { format!(" ({} of {n} quotes, an even sample)", points.len()) } else { String::new() };
    let _ = write!(
        s,
        "</div>\n<figcaption>Each quote on the first two LSA components, coloured by theme{sampled}. Nearby quotes \
         use similar words; the clustering used {} components, so themes that overlap here may still be apart.\
         </figcaption>\n</figure>\n",
        report.lsa_dims
    );
}

/// The comparison section that `compare` puts into report.html.
pub fn render_comparison_html(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "<section id=\"comparison\">\n<h2>Against the manual synthesis</h2>\n<p class=\"lede\">Themes against the \
         analysts' codes in <code>{}</code>: {} quotes on both sides and coded. The agreement measures are \
         {}. The heat map counts every code a quote carries.</p>\n\
         <table id=\"agreement\"><thead><tr><th>measure</th><th>value</th></tr></thead><tbody>\n",
        escape(&c.manual),
        c.n_compared,
        escape(c.label_view)
    );
    for (name, value, _) in agreement_rows(c) {
        let _ = writeln!(s, "<tr><td>{name}</td><td class=\"num\">{value}</td></tr>");
    }
    s.push_str("</tbody></table>\n");

    // Heat map: rows themes, columns codes; matched pairs outlined.
    let table = &c.overlap;
    let matched: Vec<(usize, &str)> = c.pairs.iter().map(|p| (p.theme, p.code.as_str())).collect();
    let max = table.counts.iter().flatten().copied().max().unwrap_or(1).max(1) as f64;
    let cell = (640.0 / table.codes.len().max(1) as f64).clamp(10.0, 40.0);
    let (left, top) = (80.0, 60.0);
    let width = left + cell * table.codes.len() as f64 + 10.0;
    let height = top + cell * table.themes.len() as f64 + 10.0;
    let _ = write!(
        s,
        "<figure id=\"agreement-heatmap\">\n<h3>Agreement: themes by code</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"Quotes per theme and code\" width=\"{width:.0}\" height=\"{height:.0}\" \
         viewBox=\"0 0 {width:.0} {height:.0}\">\n"
    );
    for (j, code) in table.codes.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text transform=\"translate({:.1},{:.1}) rotate(-60)\" font-size=\"11\">{}</text>",
            left + cell * (j as f64 + 0.5),
            top - 4.0,
            escape(&shorten(code, 14))
        );
    }
    for (i, &theme) in table.themes.iter().enumerate() {
        let y = top + cell * i as f64;
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">theme {theme}</text>",
            left - 6.0,
            y + cell / 2.0 + 4.0
        );
        for (j, code) in table.codes.iter().enumerate() {
            let n = table.counts[i][j];
            let x = left + cell * j as f64;
            let is_pair = matched.contains(&(theme, code.as_str()));
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{cell:.1}\" height=\"{cell:.1}\" fill=\"{}\" stroke=\"{}\" \
                 stroke-width=\"{}\"><title>Theme {theme}, code {}: {n} quotes{}</title></rect>",
                heat(n as f64 / max),
                if is_pair { "#e15759" } else { "#ffffff" },
                if is_pair { 2.5 } else { 1.0 },
                escape(&c.named(code)),
                if is_pair { " (matched pair)" } else { "" }
            );
            if cell >= 18.0 {
                cell_count(&mut s, x, y, cell, n, max);
            }
        }
        s.push('\n');
    }
    s.push_str(
        "</svg>\n<figcaption>Agreement: quotes of each theme that carry each code (darker is more). Red outlines \
         mark the one-to-one matching (maximum total overlap).</figcaption>\n</figure>\n",
    );

    s.push_str(
        "<table id=\"pairs\"><thead><tr><th>theme</th><th>label</th><th>code</th><th>overlap</th><th>precision</th>\
         <th>recall</th><th>F1</th><th>kappa</th></tr></thead><tbody>\n",
    );
    for p in &c.pairs {
        let _ = writeln!(
            s,
            "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{:.2}</td>\
             <td class=\"num\">{:.2}</td><td class=\"num\">{:.2}</td><td class=\"num\">{}</td></tr>",
            p.theme,
            escape(&p.label),
            escape(&c.named(&p.code)),
            p.overlap,
            p.precision,
            p.recall,
            p.f1,
            opt(p.kappa)
        );
    }
    s.push_str("</tbody></table>\n");
    if !c.unmatched_themes.is_empty() {
        s.push_str("<h3>Themes with no code: candidate new themes</h3>\n<ul>");
        for u in &c.unmatched_themes {
            let _ = write!(s, "<li>Theme {}: {} ({} quotes)</li>", u.theme, escape(&u.label), u.size);
        }
        s.push_str("</ul>\n");
    }
    if !c.unmatched_codes.is_empty() {
        s.push_str("<h3>Codes with no theme</h3>\n<ul>");
        for u in &c.unmatched_codes {
            let _ = write!(s, "<li>{} ({} quotes)</li>", escape(&c.named(&u.code)), u.size);
        }
        s.push_str("</ul>\n");
    }
    let _ = writeln!(
        s,
        "<p>{} quotes to re-read are listed in <code>disagreements.csv</code> and <code>compare.md</code>.</p>\n</section>",
        c.disagreements.len()
    );
    s
}

/// Writes a heat map cell's count in its middle (nothing for 0), white on dark cells.
fn cell_count(s: &mut String, x: f64, y: f64, cell: f64, n: u64, max: f64) {
    if n == 0 {
        return;
    }
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{}\">{n}</text>",
        x + cell / 2.0,
        y + cell / 2.0 + 3.5,
        if n as f64 / max > 0.5 { "#ffffff" } else { "#1d2430" }
    );
}

/// Puts (or replaces) the comparison section into a report.html written by `suggest`; `None` when the page
/// has no place for it (not written by this version of themata).
pub fn insert_comparison(page: &str, section: &str) -> Option<String> {
    let start = page.find(COMPARE_START)? + COMPARE_START.len();
    let end = start + page[start..].find(COMPARE_END)?;
    Some(format!("{}\n{section}{}", &page[..start], &page[end..]))
}

fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }

    #[test]
    fn colours_are_distinct_hex() {
        let colours: Vec<String> = (1..=40).map(theme_color).collect();
        for c in &colours {
            assert!(c.len() == 7 && c.starts_with('#'), "{c}");
        }
        let mut unique = colours.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), colours.len());
    }

    #[test]
    fn comparison_replaces_itself() {
        let page = format!("<p>a</p>{COMPARE_START}{COMPARE_END}<p>b</p>");
        let once = insert_comparison(&page, "<section>1</section>").unwrap();
        let twice = insert_comparison(&once, "<section>2</section>").unwrap();
        assert!(twice.contains("<section>2</section>") && !twice.contains("<section>1</section>"));
        assert!(twice.starts_with("<p>a</p>") && twice.ends_with("<p>b</p>"));
        assert_eq!(insert_comparison("<p>no markers</p>", "x"), None);
    }
}
