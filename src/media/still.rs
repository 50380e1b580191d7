//! Still images (enrolment photos, `rollcall photo`): decoded whole with OpenCV.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use opencv::core::Mat;
use opencv::prelude::*;

/// Decodes an image file as BGR (OpenCV's order, upright as its EXIF orientation says), or
/// says in one line why it cannot.
pub fn read_image(path: &Path) -> Result<Mat> {
    let name = path.to_str().context("non-UTF-8 path")?;
    let image = opencv::imgcodecs::imread(name, opencv::imgcodecs::IMREAD_COLOR).map_err(|e| {
        match imagesize::size(path) {
            // OpenCV's guard against decompression bombs (OPENCV_IO_MAX_IMAGE_PIXELS).
            Ok(size) if e.message.contains("CV_IO_MAX_IMAGE_PIXELS") => anyhow!(
                "{}: {}×{} px is more than OpenCV decodes (2^30 pixels unless OPENCV_IO_MAX_IMAGE_PIXELS says otherwise)",
                path.display(),
                size.width,
                size.height
            ),
            _ => anyhow!("{}: cannot be decoded: {}", path.display(), e.message.lines().next().unwrap_or_default()),
        }
    })?;
    if image.empty() {
        bail!("{}: not a readable image", path.display());
    }
    Ok(image)
}

/// Warns, naming the photo, when its file stops before its format's end marker (see
/// [`is_cut_short`]): OpenCV decodes it anyway, with libjpeg's own line and no name.
pub fn warn_if_cut_short(path: &Path) -> Result<()> {
    if is_cut_short(path)? {
        tracing::warn!(
            "{}: the file is cut short (no end-of-image marker): its lower part may be blank; replace it",
            path.display()
        );
    }
    Ok(())
}

/// Whether an image file stops before its format's end marker: a copy cut short, which
/// decodes to a picture whose lower part is grey. JPEG's end-of-image marker follows the last
/// scan (an EXIF thumbnail's comes before it, data appended after it is allowed); PNG ends in
/// an IEND chunk.
fn is_cut_short(path: &Path) -> Result<bool> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let find_last = |marker: &[u8]| bytes.windows(marker.len()).rposition(|w| w == marker);
    Ok(if bytes.starts_with(&[0xFF, 0xD8]) {
        let last_scan = find_last(&[0xFF, 0xDA]).unwrap_or(0);
        find_last(&[0xFF, 0xD9]).is_none_or(|end| end < last_scan)
    } else if bytes.starts_with(b"\x89PNG") {
        find_last(b"IEND").is_none()
    } else {
        false
    })
}
