//! A stand-in for the reference where a program runs it itself (kitty delegating a command via
//! `SPEC_KITTY_REFERENCE`): it hands the run to the reference zygote with exactly what the program
//! gave it, or becomes the reference (exec) whenever the zygote does not take the run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::zygote::NotServed;

const SOURCE: &str = include_str!("reference_zygote_shim.py");

/// The stand-in for `program` under `env` (a server started for it if none runs), named like the
/// reference; `Err` when there can be none.
pub(crate) fn stand_in(
    program: &Path,
    env: Vec<(OsString, OsString)>,
) -> Result<PathBuf, NotServed> {
    let server = crate::zygote::running_server(program, env)?;
    let failed = |e: std::io::Error| NotServed::Failed(e.to_string());
    let literal = |p: &Path| serde_json::to_string(&p.to_string_lossy()).unwrap_or_default();
    let text = SOURCE
        .replacen("\"@REFERENCE@\"", &literal(program), 1)
        .replacen("\"@SOCKET@\"", &literal(&server.socket), 1);
    // `-I -S`: the stand-in starts in milliseconds, reads no user or site configuration, and
    // reads the environment it was given from /proc (its start-up may add to its own).
    let text = format!("#!{} -IS\n{text}", server.interpreter);
    let name = program
        .file_name()
        .unwrap_or(std::ffi::OsStr::new("spec-kitty"));
    let path = server.dir.join(name);
    if std::fs::read_to_string(&path).is_ok_and(|t| t == text) {
        return Ok(path);
    }
    std::fs::create_dir_all(&server.dir).map_err(failed)?;
    // Per process: two tests may write it at once (the same text).
    let tmp = server.dir.join(format!(".stand-in.{}", std::process::id()));
    std::fs::write(&tmp, &text).map_err(failed)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).map_err(failed)?;
    }
    std::fs::rename(&tmp, &path).map_err(failed)?;
    Ok(path)
}
