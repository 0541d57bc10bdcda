//! The data of a message sequence diagram: lanes, arrows (delivered or
//! lost), marks on lanes, and panels of lanes side by side.

/// One message between two lanes of a [`SequenceDiagram`].
#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    /// Index of the sending lane.
    pub from: usize,
    /// Index of the receiving lane.
    pub to: usize,
    /// Send time.
    pub sent: f64,
    /// Receive time (>= `sent`), or `None` if the message was lost.
    pub received: Option<f64>,
    /// For a lost message, where the simulation dropped it: `Some(t)` if
    /// it reached the receiving lane at `t` and was dropped there (the
    /// receiver was down), so the arrow ends on that lane at `t`; `None` if
    /// it was lost on the way (the arrow ends between the lanes).
    pub lost_at: Option<f64>,
    /// Label shown near the middle of the arrow, e.g. `"Prepare(3)"`.
    pub label: String,
}

impl Arrow {
    /// A message from lane `from` to lane `to`, sent at `sent` and
    /// received at `received`.
    pub fn delivered(
        from: usize,
        to: usize,
        sent: f64,
        received: f64,
        label: impl Into<String>,
    ) -> Arrow {
        Arrow {
            from,
            to,
            sent,
            received: Some(received),
            lost_at: None,
            label: label.into(),
        }
    }

    /// A message from `from` to `to` sent at `sent` and lost (drawn dashed,
    /// in the warning colour, ending in a cross).
    pub fn lost(from: usize, to: usize, sent: f64, label: impl Into<String>) -> Arrow {
        Arrow {
            from,
            to,
            sent,
            received: None,
            lost_at: None,
            label: label.into(),
        }
    }

    /// A message from `from` to `to` sent at `sent` that reached `to` at
    /// `at` and was dropped there, because `to` was down: drawn dashed to
    /// `to`'s lane at `at`, ending in a cross on the lane.
    pub fn lost_on_arrival(
        from: usize,
        to: usize,
        sent: f64,
        at: f64,
        label: impl Into<String>,
    ) -> Arrow {
        Arrow {
            lost_at: Some(at),
            ..Arrow::lost(from, to, sent, label)
        }
    }
}

/// What a [`Mark`] on a lane means. Each kind has its own symbol, so a
/// timer never looks like work done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MarkKind {
    /// A timer fired (drawn as a small clock).
    Timer,
    /// The process crashed (red cross; the lane is shaded red until a
    /// [`MarkKind::Recover`] on the same lane).
    Crash,
    /// The process recovered (green dot).
    Recover,
    /// Any other annotation (grey dot).
    Note,
    /// The process synced its disk (a small filled square: what was synced
    /// is now durable).
    Sync,
    /// A property was violated here (a large warning triangle, label in
    /// the warning colour).
    Violation,
    /// The process finished the work a request asked for (a filled
    /// diamond; with [`Mark::warning`], work done again, e.g. a duplicate).
    Processed,
}

/// An event on one lane of a [`SequenceDiagram`].
#[derive(Clone, Debug, PartialEq)]
pub struct Mark {
    /// Lane index.
    pub lane: usize,
    /// Time of the event.
    pub at: f64,
    /// Label shown beside the mark (empty: the symbol alone, explained by
    /// the key under the diagram).
    pub label: String,
    /// Kind of event.
    pub kind: MarkKind,
    /// Drawn in the warning colour: something went wrong here (a request
    /// processed twice, a late answer).
    pub warn: bool,
}

impl Mark {
    /// A `kind` mark on `lane` at time `at`, labelled `label`.
    pub fn new(lane: usize, at: f64, kind: MarkKind, label: impl Into<String>) -> Mark {
        Mark {
            lane,
            at,
            label: label.into(),
            kind,
            warn: false,
        }
    }

    /// The same mark drawn in the warning colour (symbol and label).
    pub fn warning(mut self) -> Mark {
        self.warn = true;
        self
    }
}

/// The data of a message sequence diagram.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SequenceDiagram {
    /// Lane (process) names, left to right.
    pub lanes: Vec<String>,
    /// Messages.
    pub arrows: Vec<Arrow>,
    /// Events on lanes.
    pub marks: Vec<Mark>,
    /// Panels: `(first lane, last lane, caption)`, inclusive lane ranges
    /// drawn side by side with a rule between them and the caption under
    /// them, e.g. four scenarios of a client and a server each.
    pub groups: Vec<(usize, usize, String)>,
    /// The vertical axis counts steps (events in order), not time: drawn
    /// with whole-number ticks only.
    pub steps: bool,
}

impl SequenceDiagram {
    /// A diagram with the given lane names and no arrows or marks yet.
    pub fn new<S: Into<String>>(lanes: impl IntoIterator<Item = S>) -> SequenceDiagram {
        SequenceDiagram {
            lanes: lanes.into_iter().map(Into::into).collect(),
            ..SequenceDiagram::default()
        }
    }

    /// Adds a message.
    pub fn arrow(mut self, arrow: Arrow) -> SequenceDiagram {
        self.arrows.push(arrow);
        self
    }

    /// Adds a lane event.
    pub fn mark(mut self, mark: Mark) -> SequenceDiagram {
        self.marks.push(mark);
        self
    }

    /// Groups lanes `first..=last` into a panel captioned `caption`.
    pub fn group(
        mut self,
        first: usize,
        last: usize,
        caption: impl Into<String>,
    ) -> SequenceDiagram {
        self.groups.push((first, last, caption.into()));
        self
    }

    /// Places `other` to the right of this diagram as a new panel: its
    /// lanes, arrows and marks are appended (lane indices shifted) and its
    /// lanes grouped under `caption`. A diagram without groups becomes a
    /// panel of its own first (captioned `first_caption`).
    pub fn beside(
        mut self,
        first_caption: &str,
        other: &SequenceDiagram,
        caption: &str,
    ) -> SequenceDiagram {
        if self.groups.is_empty() && !self.lanes.is_empty() {
            self.groups
                .push((0, self.lanes.len() - 1, first_caption.to_string()));
        }
        let k = self.lanes.len();
        self.lanes.extend(other.lanes.iter().cloned());
        self.arrows.extend(other.arrows.iter().map(|a| Arrow {
            from: a.from + k,
            to: a.to + k,
            ..a.clone()
        }));
        self.marks.extend(other.marks.iter().map(|m| Mark {
            lane: m.lane + k,
            ..m.clone()
        }));
        if other.groups.is_empty() {
            if !other.lanes.is_empty() {
                self.groups
                    .push((k, k + other.lanes.len() - 1, caption.to_string()));
            }
        } else {
            self.groups.extend(
                other
                    .groups
                    .iter()
                    .map(|(a, b, c)| (a + k, b + k, c.clone())),
            );
        }
        self
    }
}
