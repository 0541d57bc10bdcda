//! Chapter 4, *Message delivery and processing* (notebook
//! `04-message-delivery-and-processing`): at-most-once and at-least-once
//! delivery, exactly-once processing by deduplication, why the dedup key
//! must be stored with the effect, dedup windows that expire, and
//! acknowledging before or after processing; and a consumer of the reader's
//! own, judged by the same checks ([`yours`]).

pub mod ack;
pub mod atomicity;
pub mod delivery;
pub mod window;
pub mod yours;
