//! Sweeps: thread-count independence, error propagation, bad input.

use std::sync::atomic::{AtomicUsize, Ordering};
use thinkdist::prelude::*;
use thinkdist::sim::rng::{derive_seed, domain};
use thinkdist::sim::sweep::{Sweep, SweepResult};

/// A real simulation per job: the mean time in system of an M/M/1 queue.
fn queue_mean(rate: f64, seed: u64) -> Result<f64> {
    Ok(Queue {
        seed,
        arrival_rate: rate,
        jobs: 5_000,
        warmup: 500,
        ..Default::default()
    }
    .run()?
    .mean_ms)
}

fn rates() -> Vec<f64> {
    (0..12).map(|i| 10.0 + 7.0 * i as f64).collect()
}

fn sweep_with(threads: usize) -> Result<Vec<SweepResult<f64, f64>>> {
    Sweep::new(rates())
        .seeds(3)
        .base_seed(7)
        .threads(threads)
        .progress(false)
        .run(|&rate, seed| queue_mean(rate, seed))
}

#[test]
fn results_do_not_depend_on_thread_count() -> Result<()> {
    let one = sweep_with(1)?;
    assert_eq!(one.len(), 12);
    for (i, r) in one.iter().enumerate() {
        assert_eq!(r.index, i);
        assert_eq!(r.point, rates()[i]);
        assert_eq!(r.values.len(), 3);
        assert_eq!(r.seeds.len(), 3);
        for (j, &s) in r.seeds.iter().enumerate() {
            assert_eq!(s, derive_seed(7, domain::SWEEP, i as u64, j as u64));
        }
    }
    for threads in [2, 3, 8] {
        let many = sweep_with(threads)?;
        assert_eq!(one, many, "threads = {threads}");
    }
    Ok(())
}

#[test]
fn results_equal_running_points_one_by_one() -> Result<()> {
    let swept = sweep_with(3)?;
    for (i, &rate) in rates().iter().enumerate() {
        for j in 0..3 {
            let seed = derive_seed(7, domain::SWEEP, i as u64, j as u64);
            assert_eq!(swept[i].values[j], queue_mean(rate, seed)?);
        }
    }
    // Busier queues wait longer (a sanity check that the sweep ran the model).
    assert!(swept[11].values[0] > swept[0].values[0]);
    Ok(())
}

#[test]
fn seed_list_gives_the_same_seeds_at_every_point() -> Result<()> {
    let results = Sweep::new(vec![30.0, 60.0])
        .seed_list(vec![11, 12, 13, 14])
        .threads(2)
        .progress(false)
        .run(|&rate, seed| Ok((seed, queue_mean(rate, seed)?)))?;
    for r in &results {
        assert_eq!(r.seeds, vec![11, 12, 13, 14]);
        let seen: Vec<u64> = r.values.iter().map(|v| v.0).collect();
        assert_eq!(seen, r.seeds);
        let ci = r.mean_ci(|v| v.1)?;
        assert_eq!(ci.n, 4);
        assert!(ci.mean > 0.0);
    }
    Ok(())
}

#[test]
fn the_first_error_by_job_index_propagates() {
    for threads in [1, 2, 3, 8] {
        let ran = AtomicUsize::new(0);
        let err = Sweep::new((0..40).collect::<Vec<u64>>())
            .seeds(2)
            .threads(threads)
            .progress(false)
            .run(|&p, seed| {
                ran.fetch_add(1, Ordering::Relaxed);
                if p == 13 || p == 5 || p == 31 {
                    Err(Error::invalid("point", p, "not 5, 13 or 31"))
                } else {
                    queue_mean(20.0, seed)
                }
            })
            .unwrap_err();
        assert!(err.is_invalid_parameter());
        assert!(
            err.message().contains("`point` = 5"),
            "{err} (threads = {threads})"
        );
        // Every job up to the first failing one ran.
        assert!(ran.load(Ordering::Relaxed) > 5 * 2);
    }
}

#[test]
fn a_failure_at_any_seed_fails_the_sweep() {
    let err = Sweep::new(vec![1, 2, 3])
        .seeds(4)
        .threads(2)
        .progress(false)
        .run(|&p, _seed| {
            if p == 3 {
                Err(Error::invalid("p", p, "below 3"))
            } else {
                Ok(p)
            }
        })
        .unwrap_err();
    assert!(err.message().contains("`p` = 3"));
}

#[test]
fn bad_input_is_an_invalid_parameter() {
    let zero_seeds = Sweep::new(vec![1.0]).seeds(0).run(|&x: &f64, _| Ok(x));
    assert!(zero_seeds.unwrap_err().is_invalid_parameter());
    let empty_list = Sweep::new(vec![1.0])
        .seed_list(vec![])
        .run(|&x: &f64, _| Ok(x));
    assert!(empty_list.unwrap_err().is_invalid_parameter());
    let zero_threads = Sweep::new(vec![1.0]).threads(0).run(|&x: &f64, _| Ok(x));
    assert!(zero_threads.unwrap_err().is_invalid_parameter());
}

#[test]
fn an_empty_grid_gives_no_results() -> Result<()> {
    let none = Sweep::new(Vec::<f64>::new()).seeds(3).run(|&x, _| Ok(x))?;
    assert!(none.is_empty());
    Ok(())
}

#[test]
fn default_settings_run_one_seed_per_point() -> Result<()> {
    let results = Sweep::new(vec![1u64, 2, 3])
        .progress(false)
        .run(|&p, seed| Ok(p ^ seed))?;
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(
            r.seeds,
            vec![derive_seed(0, domain::SWEEP, r.index as u64, 0)]
        );
        assert_eq!(r.values, vec![r.point ^ r.seeds[0]]);
    }
    Ok(())
}

#[test]
#[should_panic(expected = "job 2 exploded")]
fn a_panicking_job_re_raises_its_panic() {
    let _ = Sweep::new(vec![0, 1, 2, 3])
        .threads(2)
        .progress(false)
        .run(|&p, _| {
            if p == 2 {
                panic!("job 2 exploded");
            }
            Ok(p)
        });
}
