//! Item 7 of issue 17: a cell ending in `t.caption(format!(..))` showed a
//! `Table { headers: …` Debug dump. evcxr displays a cell's last
//! expression with `(expr).evcxr_display()`, and falls back to `Debug` when
//! that does not compile; a builder that takes the table by value moves the
//! stored `t`, the move is a compile error in evcxr's wrapper, and the
//! fallback is taken (read in evcxr 0.22's `attempt_to_fix_error`, and
//! reproduced in a kernel). So the builders borrow, and return a new table.

use thinkdist::prelude::*;

#[test]
fn a_caption_or_row_added_last_displays_as_the_table() {
    let t = Table::new(&["policy", "p99 (ms)"]).row(vec!["retry".into(), "12.5".into()]);
    // Both borrow: `t` is still there after each, as evcxr needs.
    let shown = t.caption(format!("seed {}", 7));
    let more = t.row(vec!["hedge".into(), "8.1".into()]);
    assert_eq!(t.rows().len(), 1);
    assert_eq!(more.rows().len(), 2);
    let out = shown.evcxr_output();
    assert!(
        out.starts_with("EVCXR_BEGIN_CONTENT text/html\n<table>\n<caption>seed 7</caption>"),
        "{out}"
    );
    assert!(out.contains("<td>retry</td>"), "{out}");
    assert!(out.ends_with("</table>\nEVCXR_END_CONTENT"), "{out}");
    assert!(!out.contains("Table {"), "{out}");
    assert_eq!(shown.evcxr_output(), t.caption("seed 7").evcxr_output());
}
