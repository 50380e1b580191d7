// dlib's HOG frontal face detector compiled for AVX2, as a shared library that rollcall
// embeds and loads only on CPUs that have AVX2 (src/face/isa.rs). It also exports dlib's own
// pyramid_up, the reference rollcall's port of it (src/face/upsample.rs) is tested against.
//
// Why a shared library of its own: dlib's detector is header templates, so its hot loops are
// compiled wherever it is used. In the dlib-face-recognition crate's glue they are built for
// the x86-64 baseline (SSE2). Compiling the same templates with -mavx2 into the main binary
// would give two definitions of each inline function that the static linker merges at will,
// so baseline ranks could end up running AVX2 code. Here a version script keeps every symbol
// but the C functions below local to this library: its instantiations cannot leak out, and
// nothing outside can replace them.
//
// FMA is left out (-mno-fma -ffp-contract=off): fused multiply-adds round differently and
// would move detection scores; with plain AVX2 the sums are formed in the same order.

#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/image_transforms.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <new>

namespace {

// A packed RGB buffer seen as a dlib image, so the frame is not copied into a dlib matrix.
struct packed_rgb {
    const unsigned char* pixels;
    long width;
    long height;
};

}  // namespace

namespace dlib {
template <>
struct image_traits<packed_rgb> {
    typedef rgb_pixel pixel_type;
};
}  // namespace dlib

namespace {
inline long num_rows(const packed_rgb& img) { return img.height; }
inline long num_columns(const packed_rgb& img) { return img.width; }
inline const void* image_data(const packed_rgb& img) { return img.pixels; }
inline long width_step(const packed_rgb& img) { return img.width * 3; }
}  // namespace

extern "C" {

/// A new detector (the frontal face model dlib ships), or null if it cannot be made.
__attribute__((visibility("default"))) void* rollcall_hog_new() {
    try {
        return new dlib::frontal_face_detector(dlib::get_frontal_face_detector());
    } catch (...) {
        return nullptr;
    }
}

/// A copy of `detector` (each thread needs its own: the detector keeps scratch state).
__attribute__((visibility("default"))) void* rollcall_hog_clone(const void* detector) {
    try {
        return new dlib::frontal_face_detector(*static_cast<const dlib::frontal_face_detector*>(detector));
    } catch (...) {
        return nullptr;
    }
}

__attribute__((visibility("default"))) void rollcall_hog_free(void* detector) {
    delete static_cast<dlib::frontal_face_detector*>(detector);
}

/// dlib's `pyramid_up` (with `pyramid_down<2>`, as face_recognition upsamples) of a packed
/// width×height RGB image into `out`, which has room for (2·width+2)×(2·height+1) pixels.
/// Returns 0, or -1 on an error.
__attribute__((visibility("default"))) int rollcall_pyramid_up(const unsigned char* rgb, long width, long height,
                                                             unsigned char* out) {
    try {
        dlib::matrix<dlib::rgb_pixel> image(height, width);
        std::memcpy(&image(0, 0), rgb, static_cast<size_t>(width * height * 3));
        dlib::matrix<dlib::rgb_pixel> big;
        dlib::pyramid_up(image, big, dlib::pyramid_down<2>());
        std::memcpy(out, &big(0, 0), static_cast<size_t>(big.size() * 3));
        return 0;
    } catch (...) {
        return -1;
    }
}

/// Detects faces in a packed width×height RGB image; writes up to `capacity` boxes as
/// (left, top, right, bottom) into `boxes` and returns how many were found (which may be more
/// than `capacity`: call again with room for all), or -1 on an error.
__attribute__((visibility("default"))) long rollcall_hog_detect(void* detector, const unsigned char* rgb, long width,
                                                              long height, long* boxes, long capacity) {
    try {
        packed_rgb image{rgb, width, height};
        const std::vector<dlib::rectangle> found = (*static_cast<dlib::frontal_face_detector*>(detector))(image);
        const long n = static_cast<long>(found.size());
        for (long i = 0; i < n && i < capacity; ++i) {
            boxes[4 * i] = found[i].left();
            boxes[4 * i + 1] = found[i].top();
            boxes[4 * i + 2] = found[i].right();
            boxes[4 * i + 3] = found[i].bottom();
        }
        return n;
    } catch (...) {
        return -1;
    }
}
}
