//! dlib's `pyramid_up` and `rect_down`, exactly: how `face_recognition` enlarges a frame before
//! HOG detection and maps the boxes back.
//!
//! Doubling the frame any other way (OpenCV's bilinear resize to 2W×2H, boxes halved) shifts
//! every box by about a pixel and sometimes makes the detector choose another scale, so boxes
//! and encodings would differ from the reference. dlib's geometry is its image pyramid's:
//! `pyramid_down<2>` maps a point `p` up to `(p + (1.25, 0.75)) · 2`, so the enlarged image is
//! (2W+2)×(2H+1) and resampled with corner-aligned bilinear interpolation, and boxes come back
//! down as `p / 2 − (1.25, 0.75)`, rounded half up.
//!
//! The resampling follows dlib 19.24's RGB `resize_image` (interpolation.h) operation for
//! operation, so that the pixels are bit-identical: columns in groups of four with `f32`
//! positions accumulated as its SIMD code does, weights and sums in `f32` truncated to bytes;
//! the columns after the last whole group in `f64`; rows in `f64`.

use dlib_face_recognition::Rectangle;

/// An RGB image, rows packed (3 bytes a pixel).
#[derive(Debug, Clone, PartialEq)]
pub struct Rgb {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
}

/// dlib's `pyramid_up(image, out, pyramid_down<2>())` of a packed RGB image.
pub fn pyramid_up(pixels: &[u8], width: usize, height: usize) -> Rgb {
    assert_eq!(pixels.len(), width * height * 3, "a packed RGB image");
    let (out_w, out_h) = enlarged_size(width, height);
    resize_bilinear(pixels, width, height, out_w, out_h)
}

/// The size `pyramid_up` gives a `width`×`height` image: (2W+2)×(2H+1), dlib's geometry.
pub fn enlarged_size(width: usize, height: usize) -> (usize, usize) {
    (2 * width + 2, 2 * height + 1)
}

/// dlib's `pyramid_down<2>::rect_down(rect, levels)` converted to a whole-pixel rectangle.
pub fn rect_down(rect: &Rectangle, levels: u32) -> Rectangle {
    let down = |v: i64, offset: f64| {
        let mut p = v as f64;
        for _ in 0..levels {
            p = p / 2.0 - offset;
        }
        (p + 0.5).floor() as i64
    };
    Rectangle {
        left: down(rect.left, 1.25),
        top: down(rect.top, 0.75),
        right: down(rect.right, 1.25),
        bottom: down(rect.bottom, 0.75),
    }
}

/// The four-wide part's columns, as arrays so that a row is computed with contiguous loads:
/// each output column's left source column and its two weights.
#[derive(Default)]
struct Columns {
    left: Vec<usize>,
    lr: Vec<f32>,
    inv_lr: Vec<f32>,
}

/// A source row gathered into the four-wide part's columns, one plane per channel: for output
/// column `c`, the left and the right neighbour's value (`f32`, as dlib converts them).
struct GatheredRow {
    source_row: usize,
    left: [Vec<f32>; 3],
    right: [Vec<f32>; 3],
}

impl GatheredRow {
    fn new(columns: &Columns, pixels: &[u8], row_bytes: usize, source_row: usize) -> Self {
        let row = &pixels[source_row * row_bytes..][..row_bytes];
        let plane =
            |offset: usize, ch: usize| columns.left.iter().map(|&x| f32::from(row[3 * (x + offset) + ch])).collect();
        GatheredRow {
            source_row,
            left: [plane(0, 0), plane(0, 1), plane(0, 2)],
            right: [plane(1, 0), plane(1, 1), plane(1, 2)],
        }
    }
}

/// The four-wide part's weights of one output row (dlib's tlf, trf, blf, brf).
struct Weights {
    top_left: Vec<f32>,
    top_right: Vec<f32>,
    bottom_left: Vec<f32>,
    bottom_right: Vec<f32>,
}

impl Weights {
    fn new(columns: usize) -> Self {
        let zeros = || vec![0.0; columns];
        Weights { top_left: zeros(), top_right: zeros(), bottom_left: zeros(), bottom_right: zeros() }
    }
}

/// dlib 19.24's `resize_image` for RGB images with `interpolate_bilinear`.
///
/// The four-wide part is computed a channel at a time over whole rows of gathered source values
/// (each source row is gathered once, though up to four output rows read it): the loops are
/// then plain arrays that the compiler vectorises, with every product and sum formed in the
/// same order as dlib's, so the pixels stay bit-identical.
fn resize_bilinear(pixels: &[u8], in_w: usize, in_h: usize, out_w: usize, out_h: usize) -> Rgb {
    let mut out = Rgb { width: out_w, height: out_h, pixels: vec![0; out_w * out_h * 3] };
    if in_w == 0 || in_h == 0 || out_w == 0 || out_h == 0 {
        return out;
    }
    let x_scale = (in_w - 1) as f64 / (out_w.max(2) - 1) as f64;
    let y_scale = (in_h - 1) as f64 / (out_h.max(2) - 1) as f64;

    // The four-wide part: lanes start at x0 + k·x_scale (k = 0..3, x0 = −4·x_scale, rounded to
    // f32) and advance by f32(4·x_scale) a group; it stops at the first group whose rightmost
    // lane's right neighbour is outside the image.
    let x0 = -4.0 * x_scale;
    let mut lanes = [x0 as f32, (x0 + x_scale) as f32, (x0 + 2.0 * x_scale) as f32, (x0 + 3.0 * x_scale) as f32];
    let step = (4.0 * x_scale) as f32;
    let mut columns = Columns::default();
    loop {
        for lane in &mut lanes {
            *lane += step;
        }
        let lefts = lanes.map(|x| x as i32); // truncation, as _mm_cvttps_epi32
        if lefts[3] as usize + 1 >= in_w || columns.left.len() + 4 > out_w {
            break;
        }
        for (&x, &left) in lanes.iter().zip(&lefts) {
            let lr = x - left as f32;
            columns.left.push(left as usize);
            columns.lr.push(lr);
            columns.inv_lr.push(1.0 - lr);
        }
    }
    let simd_columns = columns.left.len();

    let row_bytes = in_w * 3;
    let mut gathered: Vec<GatheredRow> = Vec::with_capacity(3);
    let mut planes = [vec![0u8; simd_columns], vec![0u8; simd_columns], vec![0u8; simd_columns]];
    let mut weights = Weights::new(simd_columns);
    let mut y = -y_scale;
    for r in 0..out_h {
        y += y_scale;
        let top = y.floor() as usize;
        let bottom = (top + 1).min(in_h - 1);
        let tb = y - top as f64;
        let (tbf, inv_tbf) = (tb as f32, (1.0 - tb) as f32);
        let top_row = &pixels[top * row_bytes..][..row_bytes];
        let bottom_row = &pixels[bottom * row_bytes..][..row_bytes];
        let out_row = &mut out.pixels[r * out_w * 3..][..out_w * 3];

        // Output rows move down the source: a gathered row is kept while rows below still read it.
        gathered.retain(|g| g.source_row >= top);
        for wanted in [top, bottom] {
            if !gathered.iter().any(|g| g.source_row == wanted) {
                gathered.push(GatheredRow::new(&columns, pixels, row_bytes, wanted));
            }
        }
        let find = |wanted: usize| gathered.iter().find(|g| g.source_row == wanted).expect("gathered just above");
        let (upper, lower) = (find(top), find(bottom));
        let n = simd_columns;
        for (c, (&inv_lr, &lr)) in columns.inv_lr.iter().zip(&columns.lr).enumerate() {
            weights.top_left[c] = inv_tbf * inv_lr;
            weights.top_right[c] = inv_tbf * lr;
            weights.bottom_left[c] = tbf * inv_lr;
            weights.bottom_right[c] = tbf * lr;
        }
        let (tlf, trf) = (&weights.top_left[..n], &weights.top_right[..n]);
        let (blf, brf) = (&weights.bottom_left[..n], &weights.bottom_right[..n]);
        for (ch, plane) in planes.iter_mut().enumerate() {
            let (tl, tr) = (&upper.left[ch][..n], &upper.right[ch][..n]);
            let (bl, br) = (&lower.left[ch][..n], &lower.right[ch][..n]);
            for (c, out) in plane[..n].iter_mut().enumerate() {
                let value = tlf[c] * tl[c] + trf[c] * tr[c] + blf[c] * bl[c] + brf[c] * br[c];
                // SAFETY: four byte values times weights in [0, 1]: finite and within 0..=256,
                // so the unchecked conversion truncates as `as i32` (and dlib's) would, and it
                // vectorises where the saturating `as` does not.
                *out = unsafe { value.to_int_unchecked::<i32>() } as u8;
            }
        }
        for (c, pixel) in out_row[..3 * n].chunks_exact_mut(3).enumerate() {
            pixel.copy_from_slice(&[planes[0][c], planes[1][c], planes[2][c]]);
        }

        let mut x = -x_scale + simd_columns as f64 * x_scale;
        for c in simd_columns..out_w {
            x += x_scale;
            let left = x.floor() as usize;
            let right = (left + 1).min(in_w - 1);
            let f = x - left as f64;
            for ch in 0..3 {
                let px = |row: &[u8], x: usize| f64::from(row[3 * x + ch]);
                let value = (1.0 - tb) * ((1.0 - f) * px(top_row, left) + f * px(top_row, right))
                    + tb * ((1.0 - f) * px(bottom_row, left) + f * px(bottom_row, right));
                out_row[3 * c + ch] = value as u8;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(width: usize, height: usize) -> Rgb {
        let pixels = (0..width * height * 3).map(|i| ((i * 37 + i / 7) % 256) as u8).collect();
        Rgb { width, height, pixels }
    }

    #[test]
    fn the_enlarged_image_has_dlibs_size_and_keeps_the_corners() {
        let small = image(13, 7);
        let big = pyramid_up(&small.pixels, 13, 7);
        assert_eq!((big.width, big.height), (28, 15));
        assert_eq!(big.pixels.len(), 28 * 15 * 3);
        // Corner-aligned: the first and last pixels are the source's.
        assert_eq!(&big.pixels[..3], &small.pixels[..3]);
        assert_eq!(&big.pixels[big.pixels.len() - 3..], &small.pixels[small.pixels.len() - 3..]);
    }

    /// Bit for bit what dlib's own `pyramid_up` gives (from rollcall's AVX2 library, whose
    /// resize uses the same 4-wide SSE arithmetic as every build of dlib), on sizes that
    /// exercise the four-wide part and its tail.
    #[test]
    fn the_port_gives_dlibs_pixels() {
        let sizes = [(2, 2), (5, 3), (13, 7), (64, 48), (97, 61), (640, 360), (1281, 721)];
        for (width, height) in sizes {
            let small = image(width, height);
            let Some(dlib) = crate::face::isa::dlib_pyramid_up(&small.pixels, width, height) else {
                eprintln!("skipped: dlib's pyramid_up comes from the AVX2 library, which this CPU cannot run");
                return;
            };
            let port = pyramid_up(&small.pixels, width, height);
            assert_eq!((port.width, port.height), (dlib.width, dlib.height));
            let differing = port.pixels.iter().zip(&dlib.pixels).filter(|(a, b)| a != b).count();
            assert_eq!(differing, 0, "{width}x{height}: {differing} bytes differ from dlib's");
        }
    }

    #[test]
    fn a_flat_image_stays_flat() {
        let flat = vec![200; 40 * 30 * 3];
        // 200 is exact in f32 and the weights sum to 1 up to rounding: never more than 1 off.
        assert!(pyramid_up(&flat, 40, 30).pixels.iter().all(|&p| p == 200 || p == 199));
    }

    #[test]
    fn boxes_come_down_as_dlibs_pyramid_maps_them() {
        let r = Rectangle { left: 100, top: 50, right: 181, bottom: 131 };
        // 100/2 − 1.25 = 48.75 → 49; 50/2 − 0.75 = 24.25 → 24; 181/2 − 1.25 = 89.25 → 89; 131/2 − 0.75 = 64.75 → 65
        assert_eq!(rect_down(&r, 1), Rectangle { left: 49, top: 24, right: 89, bottom: 65 });
        // Two levels apply the mapping twice before rounding: (100/2 − 1.25)/2 − 1.25 = 23.125.
        assert_eq!(rect_down(&r, 2).left, 23);
        assert_eq!(rect_down(&r, 0), r);
    }
}
