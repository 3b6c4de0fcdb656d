#![doc = include_str!("../crates/attestlog/README.md")]
