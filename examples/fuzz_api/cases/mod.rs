//! Every case, module by module of the crate, in a fixed order.

mod ch01_02;
mod ch03;
mod ch03_ch04_more;
mod ch04_05;
mod ch06;
mod ch07;
mod ch07_more;
mod ch09;
mod ch10;
mod ch12;
mod ch12_chapter;
mod check;
mod consensus;
mod durable;
pub mod kernel;
mod measure;
mod mechanisms;
pub mod plot;
mod plot_more;
mod process;
mod sim;

use crate::harness::Cases;

/// The full, deterministic list of cases.
pub fn all() -> Cases {
    let mut c = Cases::default();
    kernel::add(&mut c);
    sim::add(&mut c);
    measure::add(&mut c);
    mechanisms::add(&mut c);
    check::add(&mut c);
    ch09::add(&mut c);
    ch10::add(&mut c);
    consensus::add(&mut c);
    plot::add(&mut c);
    plot_more::add(&mut c);
    ch01_02::add(&mut c);
    ch03::add(&mut c);
    ch04_05::add(&mut c);
    ch03_ch04_more::add(&mut c);
    ch06::add(&mut c);
    process::add(&mut c);
    process::add_defects(&mut c);
    ch07::add(&mut c);
    ch07_more::add(&mut c);
    durable::add(&mut c);
    ch12::add(&mut c);
    c
}
