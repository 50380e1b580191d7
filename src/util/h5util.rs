//! Small HDF5 helpers for the shapes rollcall stores: string columns and scalar attributes.
//! Strings are variable-length UTF-8, which h5py reads as `str` without any help.

use std::str::FromStr;

use anyhow::{Context, Result};
use hdf5::types::VarLenUnicode;
use hdf5::{Group, Location};

fn to_h5(s: &str) -> Result<VarLenUnicode> {
    VarLenUnicode::from_str(s).with_context(|| format!("string {s:?} cannot be stored in HDF5"))
}

/// Opens an HDF5 file for reading. The error names `what` the file should be and keeps the
/// cause: a missing or unreadable file says so ("Permission denied"), a file of another kind
/// is "not an HDF5 file", and a folder, device or pipe says which it is.
pub fn open(path: &std::path::Path, what: &str) -> Result<hdf5::File> {
    if path.exists() {
        // A folder, a device or a pipe is named as such before anything opens it (a pipe would
        // block the open).
        super::input::regular_file(path, what)?;
    }
    std::fs::File::open(path).with_context(|| format!("cannot read {what} {}", path.display()))?;
    hdf5::File::open(path).map_err(|e| anyhow::anyhow!("{what} {} is not an HDF5 file ({e})", path.display()))
}

pub fn write_strings(group: &Group, name: &str, values: &[String]) -> Result<()> {
    let data = values.iter().map(|s| to_h5(s)).collect::<Result<Vec<_>>>()?;
    group.new_dataset_builder().with_data(&data).create(name)?;
    Ok(())
}

pub fn read_strings(group: &Group, name: &str) -> Result<Vec<String>> {
    let data: Vec<VarLenUnicode> = group.dataset(name)?.read_raw()?;
    Ok(data.into_iter().map(|s| s.as_str().to_owned()).collect())
}

pub fn write_str_attr(loc: &Location, name: &str, value: &str) -> Result<()> {
    loc.new_attr::<VarLenUnicode>().shape(()).create(name)?.write_scalar(&to_h5(value)?)?;
    Ok(())
}

pub fn read_str_attr(loc: &Location, name: &str) -> Result<String> {
    let value: VarLenUnicode = loc.attr(name)?.read_scalar()?;
    Ok(value.as_str().to_owned())
}

pub fn write_attr<T: hdf5::H5Type>(loc: &Location, name: &str, value: &T) -> Result<()> {
    loc.new_attr::<T>().shape(()).create(name)?.write_scalar(value)?;
    Ok(())
}
