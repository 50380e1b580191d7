//! ONNX Runtime, rollcall's inference engine: the one place that loads it, sizes its threads
//! and picks its execution provider (CPU, or CUDA on a GPU node).
//!
//! The library is not linked: it is loaded at run time (the `ort` crate's `load-dynamic`)
//! from `$ROLLCALL_ORT`, else from `data/onnxruntime/` where `make setup` unpacks the PyPI
//! wheel's `libonnxruntime.so`. So one binary runs on the CPU build `make setup` fetches and on a
//! cluster's `onnxruntime-gpu` build alike, and a node without either fails in one line when a
//! model that needs it is loaded, not at start-up.

use std::cell::{RefCell, RefMut};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Context, Result};
use ort::session::Session;

/// Environment variable naming ONNX Runtime's library (a `libonnxruntime.so*` file, or a folder
/// holding one, as the `onnxruntime` and `onnxruntime-gpu` wheels' `onnxruntime/capi` do).
pub const ORT_ENV: &str = "ROLLCALL_ORT";

/// The ONNX Runtime `make setup` fetches (PyPI `onnxruntime`), and the folder it goes to.
pub const PINNED_VERSION: &str = "1.31.1";
const SETUP_DIR: &str = "data/onnxruntime";

/// Where inference runs: the setting `device` / `--device`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// ONNX Runtime's CPU provider, one core a worker thread.
    #[default]
    Cpu,
    /// ONNX Runtime's CUDA provider (an `onnxruntime-gpu` build named by ROLLCALL_ORT); ranks
    /// of a node share its GPUs by local rank.
    Cuda,
}

impl Device {
    /// ONNX Runtime's name of the execution provider this device runs on.
    pub fn execution_provider(self) -> &'static str {
        match self {
            Device::Cpu => "CPUExecutionProvider",
            Device::Cuda => "CUDAExecutionProvider",
        }
    }
}

impl std::fmt::Display for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(match self {
            Device::Cpu => "cpu",
            Device::Cuda => "cuda",
        })
    }
}

/// The loaded library: one a process, since ONNX Runtime's API table is process-wide.
struct Engine {
    environment: ort::environment::Environment,
    library: PathBuf,
    version: String,
}

static ENGINE: OnceLock<std::result::Result<Engine, String>> = OnceLock::new();
/// The execution provider the sessions of this process run on, once one is made.
static PROVIDER: OnceLock<Device> = OnceLock::new();

/// ONNX Runtime's version and the execution provider this process ran on, for the reports'
/// provenance (`/software`); `None` where nothing ran on ONNX Runtime (hog, cnn).
pub fn in_use() -> Option<(String, &'static str)> {
    let device = PROVIDER.get()?;
    let Some(Ok(engine)) = ENGINE.get() else { return None };
    Some((format!("{} ({})", engine.version, engine.library.display()), device.execution_provider()))
}

/// One worker's copy of an ONNX model: its own session (a run needs `&mut`, so a session is
/// never shared), over the model's bytes, which the copies share. Cloning makes the next
/// worker's.
pub struct Net {
    bytes: Arc<[u8]>,
    path: Arc<Path>,
    device: Device,
    session: RefCell<Session>,
}

impl Net {
    /// Loads the ONNX file `path` onto `device`; `needed_by` names what needs it in the error
    /// for a missing file ("the yunet detector").
    pub fn load(path: &Path, needed_by: &str, device: Device) -> Result<Self> {
        anyhow::ensure!(path.is_file(), "{needed_by} needs {} (run `make setup`)", path.display());
        let bytes: Arc<[u8]> = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?.into();
        let session = RefCell::new(session(&bytes, path, device)?);
        Ok(Net { bytes, path: path.into(), device, session })
    }

    /// The session, for one run.
    pub fn session(&self) -> RefMut<'_, Session> {
        self.session.borrow_mut()
    }
}

impl Clone for Net {
    fn clone(&self) -> Self {
        let session = session(&self.bytes, &self.path, self.device).expect("the model loaded once already");
        Net {
            bytes: Arc::clone(&self.bytes),
            path: Arc::clone(&self.path),
            device: self.device,
            session: RefCell::new(session),
        }
    }
}

/// A session of `model` (the bytes of an ONNX file; `what` names it in errors) on `device`:
/// one intra-op and one inter-op thread, no spinning, so a worker thread is one core
/// (rollcall sizes its own ranks and threads).
fn session(model: &[u8], what: &Path, device: Device) -> Result<Session> {
    let engine = engine()?;
    let mut builder = Session::builder(&engine.environment)
        .map_err(message)?
        .with_intra_threads(1)
        .map_err(message)?
        .with_inter_threads(1)
        .map_err(message)?
        .with_intra_op_spinning(false)
        .map_err(message)?
        .with_inter_op_spinning(false)
        .map_err(message)?;
    if device == Device::Cuda {
        use ort::ep::ExecutionProvider;
        if !ort::ep::CUDA::is_available().unwrap_or(false) {
            bail!(
                "--device cuda: ONNX Runtime at {} is a build without CUDA: point {ORT_ENV} at the onnxruntime/capi \
                 folder of an onnxruntime-gpu {PINNED_VERSION} install (README: GPUs), or use --device cpu",
                engine.library.display()
            );
        }
        let gpu = local_gpu()?;
        builder = builder
            .with_execution_providers([ort::ep::CUDA::default().with_device_id(gpu).build().error_on_failure()])
            .map_err(|e| {
                anyhow::anyhow!(
                    "--device cuda: ONNX Runtime at {} cannot start its CUDA provider ({}): CUDA 13 and cuDNN 9 \
                     must be on the library path (README: GPUs), or use --device cpu",
                    engine.library.display(),
                    e.message().trim()
                )
            })?;
    }
    let session = builder.commit_from_memory(model).map_err(|e| {
        anyhow::anyhow!("cannot load the model {} (damaged? run `make setup`): {}", what.display(), e.message().trim())
    })?;
    PROVIDER.get_or_init(|| device);
    Ok(session)
}

/// ONNX Runtime's own message, which is one line (the session builder an error carries back is
/// dropped).
fn message<R>(e: ort::Error<R>) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message().trim())
}

fn engine() -> Result<&'static Engine> {
    ENGINE.get_or_init(|| load().map_err(|e| format!("{e:#}"))).as_ref().map_err(|e| anyhow::anyhow!("{e}"))
}

fn load() -> Result<Engine> {
    // Absolute, so that the provenance names the file whatever folder the job ran in.
    let library = library_path()?;
    let library = std::fs::canonicalize(&library).unwrap_or(library);
    let builder = ort::init_from(&library).map_err(|e| {
        anyhow::anyhow!(
            "cannot load ONNX Runtime from {} (run `make setup`, or point {ORT_ENV} at a libonnxruntime.so): {e}",
            library.display()
        )
    })?;
    let environment = builder
        .with_name("rollcall")
        .with_telemetry(false)
        .build()
        .map_err(|e| anyhow::anyhow!("ONNX Runtime at {} does not start: {}", library.display(), e.message()))?;
    let version = library_version(&library).unwrap_or_else(|| "unknown".into());
    Ok(Engine { environment, library, version })
}

/// `$ROLLCALL_ORT` (a file, or a folder with `libonnxruntime.so*`), else `data/onnxruntime`
/// under the working directory, else next to a `cargo build` tree's binary.
fn library_path() -> Result<PathBuf> {
    if let Some(named) = std::env::var_os(ORT_ENV).map(PathBuf::from) {
        // Set on purpose, so never silently passed over for another copy.
        return library_in(&named).with_context(|| {
            format!(
                "{ORT_ENV}={} is not ONNX Runtime's library (a libonnxruntime.so file, or a folder holding one; \
                 unset it for the one `make setup` fetches)",
                named.display()
            )
        });
    }
    let mut candidates = vec![PathBuf::from(SETUP_DIR)];
    if let Some(bin_dir) = std::env::current_exe().ok().and_then(|p| p.parent().map(Path::to_path_buf)) {
        candidates.push(bin_dir.join("../..").join(SETUP_DIR)); // target/release/rollcall
    }
    if let Some(found) = candidates.iter().find_map(|dir| library_in(dir).ok()) {
        return Ok(found);
    }
    let tried: Vec<String> = candidates.iter().map(|d| d.display().to_string()).collect();
    bail!(
        "ONNX Runtime not found (looked for libonnxruntime.so in {}): run `make setup`, or point {ORT_ENV} at a libonnxruntime.so",
        tried.join(", ")
    )
}

/// `path` itself if it is a file, else the `libonnxruntime.so*` in the folder `path`.
fn library_in(path: &Path) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("libonnxruntime.so")))
        .collect();
    // `libonnxruntime.so` and `libonnxruntime.so.1.31.1` are the same library: take the shortest.
    names.sort_by_key(|p| p.as_os_str().len());
    names.into_iter().next().with_context(|| format!("no libonnxruntime.so in {}", path.display()))
}

/// The version the library reports of itself (`OrtGetApiBase()->GetVersionString()`).
fn library_version(library: &Path) -> Option<String> {
    // SAFETY: the library is already loaded (by `ort::init_from`), so this only takes another
    // reference to it; `OrtGetApiBase` has this signature in every ONNX Runtime release.
    unsafe {
        let lib = libloading::Library::new(library).ok()?;
        let base: libloading::Symbol<unsafe extern "C" fn() -> *const ort::sys::OrtApiBase> =
            lib.get(b"OrtGetApiBase").ok()?;
        let base = base();
        if base.is_null() {
            return None;
        }
        let text = ((*base).GetVersionString)();
        Some(std::ffi::CStr::from_ptr(text).to_string_lossy().into_owned())
    }
}

/// The GPU this rank uses: its local rank (OpenMPI's, Slurm's or MPICH's) modulo the GPUs it
/// sees, so that the ranks of a node spread over its GPUs.
fn local_gpu() -> Result<i32> {
    let local_rank = ["OMPI_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID", "MPI_LOCALRANKID", "PMI_LOCAL_RANK"]
        .iter()
        .find_map(|name| std::env::var(name).ok()?.parse::<u32>().ok())
        .unwrap_or(0);
    let gpus = visible_gpus();
    if gpus == 0 {
        bail!("--device cuda: this node shows no GPU (no /dev/nvidia0, or CUDA_VISIBLE_DEVICES is empty); use --device cpu");
    }
    Ok((local_rank % gpus) as i32)
}

/// How many GPUs this process may use: `CUDA_VISIBLE_DEVICES` where set (as Slurm's
/// `--gres=gpu` sets it), else the NVIDIA device files.
fn visible_gpus() -> u32 {
    if let Ok(list) = std::env::var("CUDA_VISIBLE_DEVICES") {
        return list.split(',').filter(|d| !d.trim().is_empty()).count() as u32;
    }
    (0..64).take_while(|i| Path::new(&format!("/dev/nvidia{i}")).exists()).count() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_names_the_shortest_library_in_it() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["libonnxruntime.so.1.31.1", "libonnxruntime.so", "libonnxruntime_providers_shared.so"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        assert_eq!(library_in(dir.path()).unwrap(), dir.path().join("libonnxruntime.so"));
        assert!(library_in(&dir.path().join("nothing")).is_err());
    }
}
