//! What this binary is and what it runs on: for `--version` and for the reports, so that a
//! published figure can name the exact software that produced it.

/// `rollcall --version`: the crate version and the git commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ROLLCALL_GIT_COMMIT"), ")");

/// Name → version of rollcall and the native libraries it uses.
pub fn software_versions() -> Vec<(&'static str, String)> {
    let opencv = opencv::core::get_version_string().unwrap_or_else(|_| "unknown".into());
    // "Open MPI v4.1.4, package: ..., ident: ..." (NUL-terminated): keep the name and version.
    let mpi = mpi::environment::library_version()
        .map(|v| v.split([',', '\0', '\n']).next().unwrap_or("").trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let (major, minor, patch) = hdf5::library_version();
    vec![
        ("rollcall", env!("CARGO_PKG_VERSION").to_owned()),
        ("git_commit", env!("ROLLCALL_GIT_COMMIT").to_owned()),
        ("dlib", env!("ROLLCALL_DLIB_VERSION").to_owned()),
        ("opencv", opencv),
        ("hdf5", format!("{major}.{minor}.{patch}")),
        ("mpi", mpi),
    ]
}

/// This machine's host name, as the kernel has it.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map_or_else(|_| "unknown".into(), |h| h.trim().to_owned())
}

/// The CPU's model name, from `/proc/cpuinfo` (x86 `model name`, else the first `Model`/`cpu`).
pub fn cpu_model() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    ["model name", "Model", "cpu"]
        .iter()
        .find_map(|key| {
            info.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                (k.trim() == *key).then(|| v.trim().to_owned())
            })
        })
        .unwrap_or_else(|| "unknown".into())
}
