//! The README's minimal example runs, shows something, and stays in sync
//! with this copy: `readme_example_is_this_code` fails when one changes
//! without the other.

use thinkdist::prelude::*;

const BEGIN: &str = "// README example: begin";
const END: &str = "// README example: end";

fn example() -> Result<Figure> {
    // README example: begin
    #[derive(Clone, Default)]
    struct Echo;
    impl Node for Echo {
        type Msg = u64;
        type Timer = ();
        type Disk = ();
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, from: NodeId, n: u64) {
            // Answer, except 1 time in 20 (rand's Rng methods work on ctx.rng()).
            if from != EXTERNAL && !ctx.rng().random_bool(0.05) {
                ctx.send(from, n + 1);
            }
        }
    }

    let mut sim = Sim::builder()
        .seed(13) // try other seeds
        .link(LinkConfig::new(Latency::exponential(ms(5))?).loss(0.1))
        .build(vec![Echo, Echo])?;
    sim.with_node(0, |_, ctx| ctx.send(1, 0))?;
    sim.run_for(secs(1))?;
    // Ping-pong until a loss or a silent node ends it, as a message diagram:
    let lanes = vec!["node 0".to_string(), "node 1".to_string()];
    let diagram = SequenceDiagram::from_trace(sim.trace(), &lanes, sim.now());
    let fig = sequence_diagram(&diagram, Opts::new("Echo: ping-pong until it stops"))?;
    // README example: end
    Ok(fig)
}

#[test]
fn readme_example_runs_and_draws() -> Result<()> {
    let fig = example()?;
    fig.save(std::env::temp_dir(), "thinkdist-readme-echo")?;
    let png = fig.to_png()?;
    assert!(png.len() > 5_000, "a diagram, not an empty image");
    Ok(())
}

#[test]
fn readme_example_is_this_code() {
    let me = include_str!("readme.rs");
    let code: Vec<&str> = me
        .lines()
        .skip_while(|l| l.trim() != BEGIN)
        .skip(1)
        .take_while(|l| l.trim() != END)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(code.len() > 10);
    let readme = include_str!("../README.md");
    let lines: Vec<&str> = readme.lines().map(str::trim).collect();
    // Every line of the example, in order, in the README.
    let mut at = 0;
    for line in &code {
        match lines[at..].iter().position(|l| l == line) {
            Some(k) => at += k + 1,
            None => panic!("README.md lacks (or misorders) this example line: {line}"),
        }
    }
}

/// Every notebook warns, in its first cell, that the interrupt button ends
/// the kernel, and says the way back (issue 18 §2): a reader who presses it
/// loses every variable and sees only "signal: 9".
#[test]
fn every_notebook_warns_about_the_interrupt_button_first() {
    let mut seen = 0;
    for entry in std::fs::read_dir("notebooks").expect("notebooks/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("ipynb") {
            continue;
        }
        let nb: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let first = nb["cells"]
            .as_array()
            .and_then(|cells| cells.iter().find(|c| c["cell_type"] == "markdown"))
            .unwrap_or_else(|| panic!("{}: no markdown cell", path.display()));
        let text: String = match &first["source"] {
            serde_json::Value::Array(lines) => lines.iter().filter_map(|l| l.as_str()).collect(),
            other => other.as_str().unwrap_or_default().to_string(),
        };
        assert!(
            text.contains("interrupt button") && text.contains("Run All Above Selected Cell"),
            "{}: the first cell must warn about the interrupt button and say the way back",
            path.display()
        );
        seen += 1;
    }
    assert!(seen >= 7, "found only {seen} notebooks");
}
