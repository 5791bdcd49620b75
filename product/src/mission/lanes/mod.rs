//! Execution lanes (**interop**: the reference's lane computation and `lanes.json`): `compute`
//! groups work packages into lanes, `manifest` is the file.

pub mod compute;
pub mod manifest;
