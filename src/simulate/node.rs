//! What busy cores cost each other on a node: the slowdown curve `rollcall calibrate-node`
//! measures and `simulate` and `probe` apply.
//!
//! HOG streams its image and feature pyramids through caches and memory the cores share, so a
//! frame costs more when the neighbours work too (+30 % with 16 busy cores on a 16-core Xeon,
//! docs/SCALING.md). The curve is per-frame cost with k busy cores over the cost alone.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Result};
use serde::{Deserialize, Serialize};

/// Busy cores → factor by which a frame's cost grows; counts between those listed are
/// interpolated, counts beyond the largest take its factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeCurve {
    pub slowdown: BTreeMap<u32, f64>,
    /// The file it was read from, to name in the output (empty when built in code).
    #[serde(skip)]
    pub source: std::path::PathBuf,
}

impl NodeCurve {
    /// Reads the `slowdown:` map of a node file (other keys, what was measured and where,
    /// are for people) and checks it.
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::util::input::read_text(path, "node file")?;
        let mut curve: NodeCurve =
            serde_norway::from_str(&text).map_err(|e| anyhow::anyhow!("node file {}: {e}", path.display()))?;
        curve.source = path.to_path_buf();
        curve.validate().map_err(|e| anyhow::anyhow!("node file {}: {e}", path.display()))?;
        Ok(curve)
    }

    fn validate(&self) -> Result<()> {
        if self.slowdown.is_empty() {
            bail!("`slowdown:` lists no core counts");
        }
        for (&cores, &factor) in &self.slowdown {
            if cores == 0 {
                bail!("`slowdown:` has an entry for 0 busy cores; counts start at 1");
            }
            if !(factor.is_finite() && factor > 0.0) {
                bail!("`slowdown:` factor for {cores} busy cores is {factor}; factors are > 0 (1.3 = 30 % slower)");
            }
        }
        Ok(())
    }

    /// The factor with `busy` cores working (at least 1).
    pub fn factor(&self, busy: usize) -> f64 {
        let busy = busy.max(1) as f64;
        let below = self.slowdown.iter().rev().find(|(&k, _)| f64::from(k) <= busy);
        let above = self.slowdown.iter().find(|(&k, _)| f64::from(k) >= busy);
        match (below, above) {
            (Some((&k0, &f0)), Some((&k1, &f1))) if k1 > k0 => {
                f0 + (f1 - f0) * (busy - f64::from(k0)) / f64::from(k1 - k0)
            }
            (Some((_, &f)), _) | (None, Some((_, &f))) => f,
            (None, None) => 1.0,
        }
    }

    /// The largest core count measured.
    pub fn measured_up_to(&self) -> u32 {
        self.slowdown.keys().next_back().copied().unwrap_or(1)
    }
}

/// The node a prediction assumes: its curve if measured, and how many ranks share one.
#[derive(Debug, Clone, Default)]
pub struct NodeModel {
    pub curve: Option<NodeCurve>,
    /// Ranks per node; `None`: all ranks on one node.
    pub ranks_per_node: Option<usize>,
}

/// `--node NODE.yaml --ranks-per-node N`, shared by `simulate` and `probe`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NodeArgs {
    /// Slowdown curve of the node from `rollcall calibrate-node`: a frame's cost grows with the
    /// cores busy on its node. Without it, predictions leave node contention out (and say so).
    #[arg(long, value_name = "NODE.yaml")]
    pub node: Option<std::path::PathBuf>,
    /// Ranks that share a node [default: all ranks on one node].
    #[arg(long, value_name = "N")]
    pub ranks_per_node: Option<usize>,
}

impl NodeArgs {
    pub fn load(&self) -> Result<NodeModel> {
        if self.ranks_per_node == Some(0) {
            bail!("--ranks-per-node must be at least 1");
        }
        Ok(NodeModel {
            curve: self.node.as_deref().map(NodeCurve::load).transpose()?,
            ranks_per_node: self.ranks_per_node,
        })
    }
}

impl NodeModel {
    /// One line saying whether and how node contention is in the prediction.
    pub fn describe(&self) -> String {
        let placement = match self.ranks_per_node {
            Some(n) => format!("{n} rank(s) per node"),
            None => "all ranks on one node".to_owned(),
        };
        match &self.curve {
            Some(curve) => format!(
                "node contention included: slowdown curve {} (measured up to {} busy cores), {placement}",
                curve.source.display(),
                curve.measured_up_to()
            ),
            None => "node contention NOT included: pass --node NODE.yaml from `rollcall calibrate-node` \
                  (busy cores slow each other, e.g. +30 % with 16 on a 16-core Xeon)"
                .to_owned(),
        }
    }

    /// The contention of `ranks` ranks of `cores_per_rank` busy cores each, if a curve is known.
    pub fn contention(&self, ranks: usize, cores_per_rank: usize) -> Option<Contention<'_>> {
        self.curve.as_ref().map(|curve| Contention {
            curve,
            ranks_per_node: self.ranks_per_node.unwrap_or(ranks),
            cores_per_rank,
        })
    }
}

/// How the simulated ranks sit on nodes and what sharing one costs them.
#[derive(Debug, Clone, Copy)]
pub struct Contention<'a> {
    pub curve: &'a NodeCurve,
    pub ranks_per_node: usize,
    /// Cores a working rank keeps busy: its threads.
    pub cores_per_rank: usize,
}

impl Contention<'_> {
    pub fn node_of(&self, rank: usize) -> usize {
        rank / self.ranks_per_node.max(1)
    }

    /// The factor for a rank's unit started while `busy_ranks` ranks of its node (itself
    /// included) are working.
    pub fn factor(&self, busy_ranks: usize) -> f64 {
        self.curve.factor(busy_ranks * self.cores_per_rank)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curve(yaml: &str) -> Result<NodeCurve> {
        let c: NodeCurve = serde_norway::from_str(yaml)?;
        c.validate()?;
        Ok(c)
    }

    #[test]
    fn factors_between_counts_are_interpolated_and_beyond_are_held() {
        let c = curve("slowdown: {1: 1.0, 2: 1.04, 16: 1.30}\nhost: node17\n").unwrap();
        assert_eq!(c.factor(1), 1.0);
        assert!((c.factor(9) - 1.17).abs() < 1e-9, "{}", c.factor(9));
        assert_eq!(c.factor(64), 1.30);
        assert_eq!(c.factor(0), 1.0, "an idle node counts as one busy core");
        assert_eq!(c.measured_up_to(), 16);
    }

    #[test]
    fn bad_curves_are_refused() {
        assert!(curve("slowdown: {}\n").unwrap_err().to_string().contains("lists no core counts"));
        assert!(curve("slowdown: {0: 1.0}\n").unwrap_err().to_string().contains("counts start at 1"));
        assert!(curve("slowdown: {1: -1}\n").unwrap_err().to_string().contains("factors are > 0"));
        assert!(curve("cores: 16\n").is_err(), "no slowdown map");
    }
}
