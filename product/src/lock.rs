//! Advisory file locks with a wait budget (refresh lock, outbox drain lock).

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

/// Try to take an exclusive lock on `path` (creating it, and its directory, 0700/0600) for at most
/// `budget`. `Ok(None)` means another process held it the whole time.
pub fn exclusive_within(path: &Path, budget: Duration) -> io::Result<Option<File>> {
    if let Some(dir) = path.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir)?;
    }
    let mut opts = OpenOptions::new();
    opts.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let file = opts.open(path)?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if start.elapsed() >= budget {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10).min(budget));
    }
}
