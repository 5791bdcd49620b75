//! A finished mission's retrospective (**interop**: the reference's `retrospective.yaml`, its
//! generator's findings and its `RetrospectiveCaptured` status line).
//!
//! `inputs` (the files, read as Python reads them), `generator` (the rules), `record` (the record's keys and the event line), `yaml` (ruamel's
//! layout), `create` (`retrospect create`), `terminus` (the capture at a merge's end).

pub mod create;
pub mod generator;
pub mod inputs;
pub mod record;
pub mod terminus;
pub mod yaml;
