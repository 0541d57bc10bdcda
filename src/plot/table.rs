//! [`Table`]: a small summary table shown as HTML in notebooks, as CSV for
//! files and as aligned plain text with `{}`.

use std::fmt;

/// A summary table (e.g. percentiles per policy).
///
/// ```
/// use thinkdist::plot::Table;
/// let t = Table::new(&["policy", "p99 (ms)"])
///     .row(vec!["retry".into(), "12.5".into()])
///     .row(vec!["hedge <2>".into(), "8.1".into()])
///     .caption("Tail latency");
/// assert!(t.to_html().contains("hedge &lt;2&gt;"));
/// assert!(t.to_string().contains("retry"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
    caption: Option<String>,
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn escape_csv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn is_numeric(s: &str) -> bool {
    let t = s.trim().trim_end_matches('%');
    !t.is_empty() && t.parse::<f64>().is_ok()
}

impl Table {
    /// An empty table with these column headers.
    pub fn new(headers: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
            caption: None,
        }
    }

    /// The table with one more row. Short rows are padded with empty cells;
    /// extra cells are kept and shown under empty headers.
    ///
    /// Takes `&self` and returns a new table (use [`Table::push_row`] to add
    /// in place): evcxr shows a cell ending in `t.row(..)` or
    /// `t.caption(..)` as a table only if the expression leaves a stored `t`
    /// where it is; one that moves it falls back to the `Debug` dump.
    #[must_use = "row returns a new table; push_row adds to this one"]
    pub fn row(&self, cells: Vec<String>) -> Table {
        let mut t = self.clone();
        t.rows.push(cells);
        t
    }

    /// Adds a row in place (for loops).
    pub fn push_row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table with this caption shown above it. Takes `&self` and
    /// returns a new table, for the reason given at [`Table::row`].
    #[must_use = "caption returns a new table"]
    pub fn caption(&self, caption: impl Into<String>) -> Table {
        let mut t = self.clone();
        t.caption = Some(caption.into());
        t
    }

    /// Column headers.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// The rows, as given.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    fn ncols(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain(std::iter::once(self.headers.len()))
            .max()
            .unwrap_or(0)
    }

    fn cell(row: &[String], i: usize) -> &str {
        row.get(i).map(String::as_str).unwrap_or("")
    }

    /// The table as an HTML `<table>`; all text is HTML-escaped.
    pub fn to_html(&self) -> String {
        let n = self.ncols();
        let mut s = String::from("<table>\n");
        if let Some(c) = &self.caption {
            s.push_str(&format!("<caption>{}</caption>\n", escape_html(c)));
        }
        s.push_str("<thead><tr>");
        for i in 0..n {
            s.push_str(&format!(
                "<th>{}</th>",
                escape_html(Self::cell(&self.headers, i))
            ));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for r in &self.rows {
            s.push_str("<tr>");
            for i in 0..n {
                let c = Self::cell(r, i);
                if is_numeric(c) {
                    s.push_str(&format!(
                        "<td style=\"text-align:right\">{}</td>",
                        escape_html(c)
                    ));
                } else {
                    s.push_str(&format!("<td>{}</td>", escape_html(c)));
                }
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        s
    }

    /// The table as CSV (RFC 4180 quoting; the caption is not included).
    pub fn to_csv(&self) -> String {
        let n = self.ncols();
        let line = |r: &[String]| {
            (0..n)
                .map(|i| escape_csv(Self::cell(r, i)))
                .collect::<Vec<_>>()
                .join(",")
        };
        let mut s = line(&self.headers);
        s.push('\n');
        for r in &self.rows {
            s.push_str(&line(r));
            s.push('\n');
        }
        s
    }

    /// What [`Table::evcxr_display`] prints: the HTML table between evcxr's
    /// content markers.
    pub fn evcxr_output(&self) -> String {
        format!(
            "EVCXR_BEGIN_CONTENT text/html\n{}EVCXR_END_CONTENT",
            self.to_html()
        )
    }

    /// Shows the table as HTML in a Jupyter notebook run by evcxr.
    pub fn evcxr_display(&self) {
        println!("{}", self.evcxr_output());
    }
}

impl fmt::Display for Table {
    /// Aligned plain text: numbers right-aligned, text left-aligned.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.ncols();
        let width = |i: usize| {
            std::iter::once(&self.headers)
                .chain(&self.rows)
                .map(|r| Self::cell(r, i).chars().count())
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..n).map(width).collect();
        if let Some(c) = &self.caption {
            writeln!(f, "{c}")?;
        }
        let line = |f: &mut fmt::Formatter<'_>, r: &[String]| -> fmt::Result {
            let cells: Vec<String> = (0..n)
                .map(|i| {
                    // Padded by hand: `{:>w$}` panics for widths past 65,535.
                    let c = Self::cell(r, i);
                    let pad = " ".repeat(widths[i].saturating_sub(c.chars().count()));
                    if is_numeric(c) {
                        format!("{pad}{c}")
                    } else {
                        format!("{c}{pad}")
                    }
                })
                .collect();
            writeln!(f, "{}", cells.join("  ").trim_end())
        };
        line(f, &self.headers)?;
        let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
        writeln!(f, "{}", rule.join("  "))?;
        for r in &self.rows {
            line(f, r)?;
        }
        Ok(())
    }
}
