//! [`Charts`]: the figures a notebook keeps, exported together at the end.

use std::fs;
use std::path::PathBuf;

use super::figure::{check_file_name, Figure};
use super::table::Table;
use crate::error::{Error, ErrorKind, Result};

/// The charts of one notebook, kept by name and exported together as SVG
/// and PNG files (e.g. for slides).
///
/// ```
/// use thinkdist::plot::{histogram, Charts, Opts};
/// let dir = std::env::temp_dir().join("thinkdist-doc-charts");
/// let mut charts = Charts::new(&dir);
/// let fig = histogram(&[1.0, 2.0, 2.0, 3.0], 3, Opts::new("Latency").x_label("ms"))?;
/// charts.keep("latency-hist", &fig); // a cell can end with this line
/// let written = charts.export()?;
/// assert_eq!(written.rows().len(), 2); // .svg and .png
/// # Ok::<(), thinkdist::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Charts {
    dir: PathBuf,
    figures: Vec<(String, Figure)>,
    bad_names: Vec<String>,
}

impl Charts {
    /// An empty collection that exports into `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Charts {
        Charts {
            dir: dir.into(),
            figures: Vec::new(),
            bad_names: Vec::new(),
        }
    }

    /// Keeps a copy of `fig` under `name` (replacing an earlier one with the
    /// same name) and returns the figure, so a cell can end with
    /// `charts.keep("latency-cdf", &fig)` and still show it.
    ///
    /// A name that is not file-safe (empty, containing `/`, ...) is not
    /// kept: it prints a warning and makes [`Charts::export`] fail. Use
    /// [`Charts::try_keep`] to get the error at once.
    pub fn keep(&mut self, name: &str, fig: &Figure) -> Figure {
        if let Err(e) = self.try_keep(name, fig) {
            eprintln!("warning: chart not kept: {e}");
            self.bad_names.push(name.to_string());
        }
        fig.clone()
    }

    /// Like [`Charts::keep`], but returns an error for a bad name.
    pub fn try_keep(&mut self, name: &str, fig: &Figure) -> Result<Figure> {
        check_file_name(name)?;
        if let Some(slot) = self.figures.iter_mut().find(|(n, _)| n == name) {
            slot.1 = fig.clone();
        } else {
            self.figures.push((name.to_string(), fig.clone()));
        }
        Ok(fig.clone())
    }

    /// Names of the kept figures, in the order first kept.
    pub fn names(&self) -> Vec<&str> {
        self.figures.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Number of kept figures.
    pub fn len(&self) -> usize {
        self.figures.len()
    }

    /// True if no figure is kept.
    pub fn is_empty(&self) -> bool {
        self.figures.is_empty()
    }

    /// The export directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// Writes every kept figure as `name.svg` and `name.png` (slide-sized,
    /// [`Figure::to_export_png`]) into the
    /// directory (created if missing) and returns a table of the files
    /// written with their sizes in bytes.
    ///
    /// Errors: a name rejected by [`Charts::keep`]
    /// ([`Error::is_invalid_parameter`]), two charts with one title (same),
    /// a chart that breaks the slide rules ([`Figure::save`]), nothing kept
    /// ([`Error::is_empty_data`]), or a file that could not be written.
    pub fn export(&self) -> Result<Table> {
        if let Some(bad) = self.bad_names.first() {
            check_file_name(bad)?;
        }
        if self.figures.is_empty() {
            return Err(Error::empty(
                "kept charts (call charts.keep(name, &fig) first)",
            ));
        }
        self.check_titles()?;
        let mut table = Table::new(&["chart", "file", "bytes"]);
        for (name, fig) in &self.figures {
            for path in fig.save(&self.dir, name)? {
                let bytes = fs::metadata(&path)
                    .map_err(|e| Error::new(ErrorKind::Io, format!("{}: {e}", path.display())))?
                    .len();
                let file = path
                    .file_name()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_default();
                table.push_row(vec![name.clone(), file, bytes.to_string()]);
            }
        }
        let mut caption = format!(
            "{} charts written to {}",
            self.figures.len(),
            self.dir.display()
        );
        let stale = self.not_redrawn();
        if !stale.is_empty() {
            caption.push_str(&format!(
                ". Not redrawn by this kernel, left as exported before: {} \
                 ({} charts). Run all cells to redraw them with the current parameters",
                stale.join(", "),
                stale.len()
            ));
        }
        Ok(table.caption(caption))
    }

    /// Two charts of one notebook with the same title look like one chart
    /// twice on a slide: the second is refused, naming both.
    fn check_titles(&self) -> Result<()> {
        for (i, (name, fig)) in self.figures.iter().enumerate() {
            let title = fig.title().trim();
            if title.is_empty() {
                continue;
            }
            if let Some((other, _)) = self.figures[..i]
                .iter()
                .find(|(_, f)| f.title().trim() == title)
            {
                return Err(Error::invalid(
                    "title",
                    format!("{title:?} (charts {other:?} and {name:?})"),
                    "a different title for each chart of a notebook (say what differs)",
                ));
            }
        }
        Ok(())
    }

    /// Charts in the export directory (`name.png`) that this collection
    /// does not hold, sorted by name: a notebook whose parameter cell was
    /// rerun (a new, empty `Charts`) exports only the charts redrawn since,
    /// and the reader must know that the others still show old parameters.
    pub fn not_redrawn(&self) -> Vec<String> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                name.strip_suffix(".png").map(str::to_string)
            })
            .filter(|n| !self.figures.iter().any(|(k, _)| k == n))
            .collect();
        names.sort();
        names
    }
}
