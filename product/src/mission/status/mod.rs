//! The status model (**interop**: the reference's `status.events.jsonl`, its reducer and
//! `status.json`): the event log is the truth, one reducer derives the board, every command
//! writes status only through here.
//!
//! `lane` (the lanes, their order and weights), `event` (the log's line kinds), `log` (reading a
//! log as the reference does), `reduce` (events → snapshot), `materialize` (`status.json`),
//! `append` (new transition lines), `error`.

pub mod append;
pub mod error;
pub mod event;
pub mod lane;
pub mod log;
pub mod materialize;
pub mod reduce;

pub use error::StatusError;
pub use lane::Lane;
pub use reduce::{Snapshot, WpState};
