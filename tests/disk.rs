//! What a sync costs (issue 17, item 9): with a `DiskLog`, a node with
//! 100,000 entries syncs an append for what it appended, not for the whole
//! log. Measured without a clock: this test binary counts the bytes each
//! thread allocates, and a sync's cost is the bytes allocated while the
//! event that appends and syncs runs (a `Vec` log copies all of itself).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use thinkdist::prelude::*;

/// Counts the bytes the current thread allocates (tests run in parallel
/// threads, so a global count would mix them).
struct Counting;

thread_local! {
    static ALLOCATED: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter only reads the requested sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + layout.size()));
        // SAFETY: the caller's layout is passed on as is.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|a| a.set(a.get() + new_size));
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocated() -> usize {
    ALLOCATED.with(Cell::get)
}

/// A Raft-like log on disk: the current term and (term, command) entries.
#[derive(Debug, Clone, Default)]
struct RaftDisk {
    term: u64,
    log: DiskLog<(u64, u64)>,
}

/// The same with a `Vec`.
#[derive(Debug, Clone, Default)]
struct VecDisk {
    log: Vec<(u64, u64)>,
}

/// Appends an entry and syncs on every message.
#[derive(Debug, Clone, Default)]
struct Appender<D>(std::marker::PhantomData<D>);

trait Log: Clone + std::fmt::Debug + Default {
    fn with_entries(n: u64) -> Self;
    fn append(&mut self, e: (u64, u64));
    fn len(&self) -> usize;
}

impl Log for RaftDisk {
    fn with_entries(n: u64) -> Self {
        RaftDisk {
            term: 1,
            log: (0..n).map(|i| (1, i)).collect(),
        }
    }
    fn append(&mut self, e: (u64, u64)) {
        self.log.push(e);
    }
    fn len(&self) -> usize {
        self.log.len()
    }
}

impl Log for VecDisk {
    fn with_entries(n: u64) -> Self {
        VecDisk {
            log: (0..n).map(|i| (1, i)).collect(),
        }
    }
    fn append(&mut self, e: (u64, u64)) {
        self.log.push(e);
    }
    fn len(&self) -> usize {
        self.log.len()
    }
}

impl<D: Log> Node for Appender<D> {
    type Msg = u64;
    type Timer = ();
    type Disk = D;
    fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, m: u64) {
        ctx.disk().append((2, m));
        ctx.sync("append");
    }
}

/// Bytes allocated by the event in which a node with `entries` entries
/// appends one and syncs (the median of 9 such events).
fn bytes_per_sync<D: Log>(entries: u64) -> Result<usize> {
    let mut sim = Sim::builder()
        .trace(0)
        .build(vec![Appender::<D>(std::marker::PhantomData)])?;
    sim.set_disk(0, D::with_entries(entries))?;
    sim.run_for(ms(1))?; // the start
    let mut costs = Vec::new();
    for i in 0..9u64 {
        sim.inject_exact(0, i, ms(1))?;
        let before = allocated();
        sim.step()?;
        costs.push(allocated() - before);
    }
    assert_eq!(sim.disk(0)?.synced().len(), entries as usize + 9);
    costs.sort_unstable();
    Ok(costs[4])
}

#[test]
fn a_disk_log_syncs_what_was_appended_not_the_whole_log() -> Result<()> {
    let small = bytes_per_sync::<RaftDisk>(1_000)?;
    let large = bytes_per_sync::<RaftDisk>(100_000)?;
    eprintln!("DiskLog: {small} bytes per sync at 1,000 entries, {large} at 100,000");
    // The same cost at 100 times the length (a leaf and a path of a few
    // nodes are copied on the first write after a sync).
    assert!(large <= small + 4096, "{small} vs {large} bytes");
    assert!(large < 16 * 1024, "{large} bytes for one appended entry");
    Ok(())
}

/// The counterpart that shows the measure tells the two apart: a `Vec` log
/// copies itself on every sync (16 bytes per entry).
#[test]
fn a_vec_log_copies_itself_on_every_sync() -> Result<()> {
    let small = bytes_per_sync::<VecDisk>(1_000)?;
    let large = bytes_per_sync::<VecDisk>(100_000)?;
    eprintln!("Vec: {small} bytes per sync at 1,000 entries, {large} at 100,000");
    assert!(large >= 16 * 100_000, "{large}");
    assert!(large >= 50 * small, "{small} vs {large}");
    Ok(())
}

#[test]
fn the_log_and_the_map_behave_like_a_vec_and_a_btreemap() {
    let mut log: DiskLog<u32> = (0..10).collect();
    log.push(10);
    log.extend([11, 12]);
    assert_eq!(
        (log.len(), log[3], log.get(13), log.last()),
        (13, 3, None, Some(&12))
    );
    log.truncate(5);
    log.truncate(50); // longer than the log: nothing
    assert_eq!(log.to_vec(), vec![0, 1, 2, 3, 4]);
    assert_eq!(log.iter_from(3).copied().collect::<Vec<_>>(), vec![3, 4]);
    assert_eq!(log.iter_from(99).count(), 0);
    assert_eq!(log.pop(), Some(4));
    assert_eq!(format!("{log:?}"), "[0, 1, 2, 3]");
    let snapshot = log.clone();
    log.push(7);
    assert_eq!(snapshot.len(), 4, "a clone does not see later writes");

    let mut map: DiskMap<String, i64> = DiskMap::new();
    map.insert("b".into(), 2);
    map.insert("a".into(), 1);
    assert_eq!(map.insert("a".into(), 3), Some(1));
    if let Some(v) = map.get_mut(&"b".to_string()) {
        *v += 10;
    }
    assert_eq!(format!("{map:?}"), r#"{"a": 3, "b": 12}"#);
    assert_eq!(map.keys().cloned().collect::<Vec<_>>(), vec!["a", "b"]);
    assert_eq!(map.remove(&"a".to_string()), Some(3));
    assert!(!map.contains_key(&"a".to_string()) && map.len() == 1);
}

/// A disk made of them survives a crash as synced, like any disk.
#[test]
fn a_crash_keeps_the_synced_log_only() -> Result<()> {
    #[derive(Debug, Clone, Default)]
    struct Half;
    impl Node for Half {
        type Msg = u64;
        type Timer = ();
        type Disk = RaftDisk;
        fn on_message(&mut self, ctx: &mut Ctx<'_, Self>, _: NodeId, m: u64) {
            ctx.disk().log.push((1, m));
            if m % 2 == 0 {
                ctx.sync("even");
            }
        }
    }
    let mut sim = Sim::builder().build(vec![Half])?;
    for m in 0..6 {
        sim.inject_exact(0, m, ms(m + 1))?;
    }
    sim.run_for(ms(10))?;
    assert_eq!(sim.disk(0)?.working().log.len(), 6);
    sim.crash(0)?;
    let synced: Vec<u64> = sim.disk(0)?.working().log.iter().map(|e| e.1).collect();
    assert_eq!(synced, vec![0, 1, 2, 3, 4], "5 was not synced");
    assert_eq!(sim.disk(0)?.synced().term, 0);
    Ok(())
}

/// A `DiskLog` keeps its newest entries apart from the shared ones; whatever
/// the split, it must answer like a `Vec` of the same entries. Random pushes,
/// truncations, pops, syncs (`clone_from`) and crashes (back to the synced
/// copy), each answer compared with a `Vec` model, and equality, order,
/// hashing and serialization compared with a log built in one piece.
#[test]
fn a_disk_log_answers_like_a_vec_wherever_its_entries_are_kept() {
    use std::hash::{Hash, Hasher};
    fn hash_of<T: Hash>(t: &T) -> u64 {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        t.hash(&mut h);
        h.finish()
    }
    let mut rng = thinkdist::sim::rng::stream(7, 0, 0, 0);
    let (mut log, mut synced) = (DiskLog::<u64>::new(), DiskLog::<u64>::new());
    let (mut model, mut model_synced) = (Vec::<u64>::new(), Vec::<u64>::new());
    let mut next = 0u64;
    let mut crossed = 0; // truncations that reached into the shared part
    let mut longest = 0;
    for step in 0..20_000u32 {
        match rng.random_range(0..100u32) {
            0..=69 => {
                for _ in 0..rng.random_range(1..=8) {
                    log.push(next);
                    model.push(next);
                    next += 1;
                }
            }
            70..=74 => {
                let len = (model.len() + 3).saturating_sub(rng.random_range(0..100));
                if len + DiskLog::<u64>::TAIL < model.len() {
                    crossed += 1;
                }
                log.truncate(len);
                model.truncate(len);
            }
            75..=79 => assert_eq!(log.pop(), model.pop()),
            80..=94 => {
                synced.clone_from(&log);
                model_synced.clone_from(&model);
            }
            _ => {
                log.clone_from(&synced);
                model.clone_from(&model_synced);
            }
        }
        assert_eq!(log.len(), model.len());
        longest = longest.max(model.len());
        let i = rng.random_range(0..=model.len() + 1);
        assert_eq!(log.get(i), model.get(i), "get({i}) at step {step}");
        assert_eq!((log.first(), log.last()), (model.first(), model.last()));
        let from = rng.random_range(0..=model.len() + 1);
        let max = rng.random_range(0..80usize);
        let want: Vec<u64> = model.iter().skip(from).take(max).copied().collect();
        assert_eq!(
            log.to_vec_from(from, max),
            want,
            "to_vec_from({from}, {max})"
        );
        let tail: Vec<u64> = log.iter_from(from).copied().collect();
        assert_eq!(tail, model[from.min(model.len())..]);
        if step % 97 == 0 {
            let whole: DiskLog<u64> = model.iter().copied().collect();
            assert_eq!(log, whole);
            assert_eq!(log.cmp(&whole), std::cmp::Ordering::Equal);
            assert_eq!(hash_of(&log), hash_of(&whole));
            assert_eq!(log.to_vec(), model);
            let json = serde_json::to_string(&log).unwrap();
            assert_eq!(json, serde_json::to_string(&model).unwrap());
            assert_eq!(serde_json::from_str::<DiskLog<u64>>(&json).unwrap(), log);
        }
    }
    assert!(longest > 1_000 && crossed > 100, "{longest} {crossed}");
}
