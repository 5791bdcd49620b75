//! Nothing: the probe is in its test.
