//! A mission's merge (**interop**: the reference's `spec-kitty merge`).
//!
//! `forecast` is `merge --dry-run`: what the merge would do, written nowhere.

pub mod forecast;
