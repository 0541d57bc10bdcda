//! Chapter 4, *Message delivery and processing* (notebook
//! `04-message-delivery-and-processing`): at-most-once and at-least-once
//! delivery, exactly-once processing by deduplication.

pub mod delivery;
