//! Runs one `#[ignore]`d test of the current test binary as a child process,
//! collects its stdout lines, and kills it (SIGKILL on Unix) at a chosen
//! moment — after an *event* (a line it printed), never after a bare sleep
//! that a busy machine could outrun.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// The command that runs `test` (exact name, ignored tests included) of the
/// current test binary alone, with `envs` set.
///
/// # Panics
/// When the current executable is unknown.
#[must_use]
pub fn command(test: &str, envs: &[(&str, String)]) -> Command {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        test,
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd
}

/// A running child whose stdout lines are collected as they come.
#[derive(Debug)]
pub struct Running {
    child: Child,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
    reader: Option<JoinHandle<()>>,
}

impl Running {
    /// Spawns `cmd` with stdout piped (stderr discarded).
    ///
    /// # Panics
    /// When the process cannot be started.
    #[must_use]
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let (m, cv) = &*sink;
                m.lock().unwrap().push(line);
                cv.notify_all();
            }
            // End of output: wake any waiter so it can see the child is gone.
            sink.1.notify_all();
        });
        Self {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Waits until a printed line satisfies `pred`, or `limit` passes (a
    /// generous bound for a hung child, not a timing assumption).
    ///
    /// # Panics
    /// When no such line comes within `limit` (the child hung or died).
    pub fn wait_for_line(&mut self, pred: impl Fn(&str) -> bool, limit: Duration) {
        let (m, cv) = &*self.lines;
        let guard = m.lock().unwrap();
        let (guard, timeout) = cv
            .wait_timeout_while(guard, limit, |lines| !lines.iter().any(|l| pred(l)))
            .unwrap();
        assert!(
            !timeout.timed_out(),
            "the child printed no expected line within {limit:?}; it printed {} lines",
            guard.len()
        );
    }

    /// Kills the child (SIGKILL on Unix), reaps it and returns every line it
    /// printed.
    ///
    /// # Panics
    /// When the child cannot be killed or reaped.
    #[must_use]
    pub fn kill(mut self) -> Vec<String> {
        let _ = self.child.kill();
        self.child.wait().unwrap();
        if let Some(r) = self.reader.take() {
            r.join().unwrap();
        }
        std::mem::take(&mut *self.lines.0.lock().unwrap())
    }
}
