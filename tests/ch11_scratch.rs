use thinkdist::ch11::*;
use thinkdist::prelude::*;
fn hasty_fixed(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        if o.now().await < o.arrival() + ms(100) {
            o.call("ship express", Service::Shipping).await;
        } else {
            o.call("ship standard", Service::Shipping).await;
        }
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}
fn hasty(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        if o.unjournaled_now() < o.arrival() + ms(100) {
            o.call("ship express", Service::Shipping).await;
        } else {
            o.call("ship standard", Service::Shipping).await;
        }
        o.sleep("wait for delivery", secs(1)).await;
        o.call("notify", Service::Email).await;
    })
}
fn notify_unkeyed(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(1)).await;
        o.call_unkeyed("notify", Service::Email).await;
    })
}
fn long_wait(o: Order) -> Steps {
    Box::pin(async move {
        o.call("reserve stock", Service::Inventory).await;
        o.call("charge card", Service::Payments).await;
        o.call("ship", Service::Shipping).await;
        o.sleep("wait for delivery", secs(3)).await;
        o.call("notify", Service::Email).await;
    })
}
#[test]
fn scratch() -> Result<()> {
    let p = ShopParams::default();
    let rates = [0.0, 0.5, 1.0, 1.5, 2.0, 2.5];
    let h = p.every_crash_point(Way::Durable, hasty)?;
    println!("{}", crash_point_list(&h));
    let h2 = p.every_crash_point(Way::Durable, hasty_fixed)?;
    println!("fixed: {} of {}", h2.recovered(), h2.points().len());
    println!("{}", crash_point_list(&p.every_crash_point(Way::Plain, standard_order)?));
    let nol = compare(&ShopParams { loss: 0.0, ..p.clone() }, standard_order, &rates, 40)?;
    println!("LOSS 0\n{}", nol.table(Some(Shape::STANDARD)));
    let nu = compare(&p, notify_unkeyed, &rates, 40)?;
    println!("NOTIFY UNKEYED\n{}", nu.table(None));
    let lw = compare(&p, long_wait, &rates, 40)?;
    println!("LONG WAIT\n{}", lw.table(Some(Shape { calls: 4, wait: secs(3) })));
    let rp = ReminderParams { mean_up: hours(48), ..Default::default() };
    println!("{}", reminder_table(&rp.run()?, &rp));
    Ok(())
}
