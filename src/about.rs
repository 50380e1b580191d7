//! What this binary is and what it runs on: for `--version` and for the reports, so that a
//! published figure can name the exact software that produced it.

/// `rollcall --version`: the crate version and the git commit it was built from.
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("ROLLCALL_GIT_COMMIT"), ")");

/// Name → version of rollcall and the native libraries it uses, the build of the HOG
/// detector the job ran (`isa`), and ONNX Runtime's version and execution provider where it ran.
pub fn software_versions(isa: crate::face::Isa) -> Vec<(&'static str, String)> {
    let opencv = opencv::core::get_version_string().unwrap_or_else(|_| "unknown".into());
    // "Open MPI v4.1.4, package: ..., ident: ..." (NUL-terminated): keep the name and version.
    let mpi = mpi::environment::library_version()
        .map(|v| v.split([',', '\0', '\n']).next().unwrap_or("").trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let (major, minor, patch) = hdf5::library_version();
    let engine = crate::engine::in_use();
    vec![
        ("rollcall", env!("CARGO_PKG_VERSION").to_owned()),
        ("git_commit", env!("ROLLCALL_GIT_COMMIT").to_owned()),
        ("dlib", env!("ROLLCALL_DLIB_VERSION").to_owned()),
        ("opencv", opencv),
        ("hdf5", format!("{major}.{minor}.{patch}")),
        ("mpi", mpi),
        ("isa_in_use", isa.describe().to_owned()),
        ("onnxruntime", engine.as_ref().map_or_else(|| "not used".into(), |(version, _)| version.clone())),
        ("execution_provider", engine.map_or("none", |(_, provider)| provider).to_owned()),
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

/// What one rank ran on: with the job's [`job_provenance`], what a published figure needs
/// to be attributed and reproduced.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostInfo {
    pub rank: u32,
    pub host: String,
    pub cpu: String,
    pub logical_cores: u32,
    /// The x86-64 micro-architecture level the CPU supports (v1 to v4); the build of the HOG
    /// detector that ran is `isa_in_use` in the software list.
    pub isa_level: String,
    pub memory_bytes: u64,
}

impl HostInfo {
    pub fn of_this_process(rank: u32) -> Self {
        HostInfo {
            rank,
            host: host_name(),
            cpu: cpu_model(),
            logical_cores: logical_cores() as u32,
            isa_level: isa_level().to_owned(),
            memory_bytes: meminfo_bytes("MemTotal").unwrap_or(0),
        }
    }
}

/// The highest x86-64 micro-architecture level this CPU supports.
pub fn isa_level() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        let v2 = has!("sse4.2") && has!("popcnt") && has!("ssse3") && has!("cmpxchg16b");
        let v3 = v2 && has!("avx2") && has!("bmi1") && has!("bmi2") && has!("fma") && has!("f16c") && has!("lzcnt");
        let v4 = v3 && has!("avx512f") && has!("avx512bw") && has!("avx512cd") && has!("avx512dq") && has!("avx512vl");
        match (v2, v3, v4) {
            (_, _, true) => "x86-64-v4",
            (_, true, _) => "x86-64-v3",
            (true, _, _) => "x86-64-v2",
            _ => "x86-64",
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        std::env::consts::ARCH
    }
}

/// Logical cores this process may run on (its CPU affinity, cgroup quota), at least 1.
pub fn logical_cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// CPU time this process has used so far, user + system, all its threads, in seconds: what
/// a rank cost, the figure a semester's core-hours are planned with (0 if the kernel will not
/// say).
pub fn process_cpu_s() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is handed and touches nothing else; it is read
    // only when the call succeeded.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } != 0 {
        return 0.0;
    }
    let usage = unsafe { usage.assume_init() };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// The job's side of the provenance: the command line as typed, the UTC start, and, under
/// Slurm, the job, step, array task, node list and partition (from its environment).
pub fn job_provenance(started: std::time::SystemTime) -> Vec<(String, String)> {
    let args: Vec<String> = std::env::args().collect();
    let mut job = vec![
        ("command_line".to_owned(), shell_words::join(&args)),
        ("start_utc".to_owned(), humantime::format_rfc3339_seconds(started).to_string()),
    ];
    for (key, variable) in [
        ("slurm_job_id", "SLURM_JOB_ID"),
        ("slurm_step_id", "SLURM_STEP_ID"),
        ("slurm_array_task_id", "SLURM_ARRAY_TASK_ID"),
        ("slurm_job_nodelist", "SLURM_JOB_NODELIST"),
        ("slurm_job_partition", "SLURM_JOB_PARTITION"),
    ] {
        if let Ok(value) = std::env::var(variable) {
            job.push((key.to_owned(), value));
        }
    }
    job
}

/// A host in one line: "node17: Intel Xeon ..., 16 cores, x86-64-v3, 62.8 GiB".
pub fn describe_host(h: &HostInfo) -> String {
    format!(
        "{}: {}, {} cores, {}, {:.1} GiB",
        h.host,
        h.cpu,
        h.logical_cores,
        h.isa_level,
        h.memory_bytes as f64 / f64::from(1u32 << 30)
    )
}

/// A field of `/proc/meminfo` (`MemTotal`, `MemAvailable`, ...) in bytes.
pub fn meminfo_bytes(field: &str) -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.strip_prefix(field).is_some_and(|rest| rest.starts_with(':')))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
