use thinkdist::delivery::Consumer;
fn my_consumer(c: &mut Consumer) {
    if c.remembers_key() {
        c.ack(); // processed before: skip it, but ack again (the last ack may have been lost)
        return;
    }
    c.apply_effect();
    c.remember_key();
    c.sync(); // effect and key reach the disk together
    c.ack();
}
