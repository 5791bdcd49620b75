//! A mission's merge (**interop**: the reference's `spec-kitty merge`).
//!
//! `abort` is `merge --abort` (and `--resume`'s first check). `forecast` is `merge --dry-run`: what the merge would do, written nowhere; it reads through
//! `resolve` (where it runs, the handle, the target), `manifest` (lanes.json) and `policy` (the
//! review gate, the number to assign, the clean-up retention).

pub mod abort;
mod console;
mod drivers;
pub mod execute;
pub mod forecast;
mod gates;
mod integrate;
mod manifest;
mod policy;
mod resolve;
mod state;
mod steps;
