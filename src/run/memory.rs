//! How much memory a rank may use, and how much one worker thread needs: so that `--threads`
//! is cut to what fits instead of the kernel killing the job (one thread of the CNN detector
//! on a 1080p frame holds gigabytes).

use crate::face::Detector;

/// Bytes one worker thread holds besides its detector's working memory: its copy of the
/// landmark and encoding models and a frame or two.
const THREAD_BASE_BYTES: u64 = 32 << 20;

/// Estimated bytes one worker thread needs to detect faces in images of `pixels` pixels
/// (as scanned, after scaling and upsampling). The detector's working memory per pixel is in
/// its [`Spec`](crate::face::detect::Spec), measured as the growth of peak RSS from one to two
/// threads: `/usr/bin/time -f %M rollcall attend data/hall/hall.mp4 --threads 1|2 --detector D`.
pub fn per_thread_bytes(detector: Detector, pixels: u64) -> u64 {
    THREAD_BASE_BYTES + pixels * detector.spec().bytes_per_pixel
}

/// Bytes this process may still allocate: the kernel's `MemAvailable`, lowered by the
/// memory limit of the control group it runs in (Slurm confines jobs that way), shared by
/// the ranks of this job on this node.
pub fn available_to_this_rank() -> Option<u64> {
    let node = crate::about::meminfo_bytes("MemAvailable")?;
    let limit = cgroup_headroom().map_or(node, |h| h.min(node));
    Some(limit / ranks_on_this_node())
}

/// Limit minus use of this process's memory control group (v2 `memory.max`, v1
/// `memory.limit_in_bytes`), if it has a limit.
fn cgroup_headroom() -> Option<u64> {
    let membership = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    for line in membership.lines() {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let (root, limit, usage) = match controllers {
            "" => ("/sys/fs/cgroup", "memory.max", "memory.current"),
            c if c.split(',').any(|c| c == "memory") => {
                ("/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory.usage_in_bytes")
            }
            _ => continue,
        };
        let Some(dir) = group_folder(root, path) else { continue };
        let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok()?.trim().parse::<u64>().ok();
        if let (Some(limit), Some(usage)) = (read(limit), read(usage)) {
            return Some(limit.saturating_sub(usage)); // "max" (no limit) does not parse
        }
    }
    None
}

/// The folder of group `path` under the controller's mount `root`. Inside a container the
/// mount shows only the container's part of the tree, so the leading components of the
/// path that it lacks are dropped.
fn group_folder(root: &str, path: &str) -> Option<std::path::PathBuf> {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    (0..=parts.len())
        .map(|skip| parts[skip..].iter().fold(std::path::PathBuf::from(root), |d, p| d.join(p)))
        .find(|d| d.is_dir())
}

/// Ranks of this job on this node, as the MPI launcher says (OpenMPI, MPICH, Slurm's srun).
fn ranks_on_this_node() -> u64 {
    ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"]
        .iter()
        .find_map(|v| std::env::var(v).ok()?.parse::<u64>().ok())
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cnn_needs_far_more_than_hog() {
        let pixels = 2560 * 1440;
        assert!(per_thread_bytes(Detector::Cnn, pixels) > 20 * per_thread_bytes(Detector::Hog, pixels));
        assert!(available_to_this_rank().is_some_and(|b| b > 0), "this machine has /proc/meminfo");
    }
}
