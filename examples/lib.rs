//! Nothing here: this package only holds the workspace's runnable examples
//! (`cargo run --example quickstart`, `async_reqwest`, `closure_transport`).
