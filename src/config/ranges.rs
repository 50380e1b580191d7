//! Whether a setting's range is checked: settings given now are; settings a stored result
//! recorded are read as what ran, so that a range a later release narrows leaves today's
//! results readable.

use anyhow::{bail, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ranges {
    /// Settings given now (a config file, a manifest, the flags): out of range is refused.
    Checked,
    /// Settings a result recorded: they ran, whatever today's ranges say.
    AsRecorded,
}

impl Ranges {
    /// Refuses with `refusal` when `within` is false and ranges are checked.
    pub(super) fn check(self, within: bool, refusal: impl FnOnce() -> String) -> Result<()> {
        if self == Ranges::Checked && !within {
            bail!(refusal());
        }
        Ok(())
    }
}
