// dlib's aligned face chips, for the ONNX Runtime encoder (src/face/onnx_encoder.rs): the same
// get_face_chip_details(landmarks, 150, 0.25) and extract_image_chips that dlib's own encoder
// runs before its network (the dlib-face-recognition crate's get_face_encodings), so that the
// ONNX graph of the network reads exactly the pixels dlib's reads.
#include <cstddef>
#include <vector>

#include <dlib/array.h>
#include <dlib/image_processing/full_object_detection.h>
#include <dlib/image_transforms.h>
#include <dlib/matrix.h>
#include <dlib/pixel.h>

extern "C" {

// `image`: a dlib::matrix<dlib::rgb_pixel> (the crate's ImageMatrix). `points`: x, y of
// `points_per_face` landmarks for each of `faces` faces. `out`: faces x 3 x 150 x 150 floats,
// planes R, G, B of 0-255 values. Returns 0, or 1 when dlib threw (bad landmarks).
int rollcall_face_chips(const void* image, const long* points, std::size_t faces, std::size_t points_per_face,
                        float* out) {
    constexpr long side = 150;
    try {
        const auto& img = *static_cast<const dlib::matrix<dlib::rgb_pixel>*>(image);
        std::vector<dlib::chip_details> details;
        details.reserve(faces);
        for (std::size_t f = 0; f < faces; ++f) {
            std::vector<dlib::point> parts;
            for (std::size_t p = 0; p < points_per_face; ++p) {
                const long* xy = points + 2 * (f * points_per_face + p);
                parts.emplace_back(xy[0], xy[1]);
            }
            details.push_back(dlib::get_face_chip_details(dlib::full_object_detection(dlib::rectangle(), parts), side, 0.25));
        }
        dlib::array<dlib::matrix<dlib::rgb_pixel>> chips;
        dlib::extract_image_chips(img, details, chips);
        const std::size_t plane = side * side;
        for (std::size_t f = 0; f < chips.size(); ++f) {
            float* r = out + f * 3 * plane;
            float* g = r + plane;
            float* b = g + plane;
            for (long y = 0; y < side; ++y) {
                for (long x = 0; x < side; ++x) {
                    const dlib::rgb_pixel& p = chips[f](y, x);
                    const std::size_t at = y * side + x;
                    r[at] = p.red;
                    g[at] = p.green;
                    b[at] = p.blue;
                }
            }
        }
        return 0;
    } catch (...) {
        return 1;
    }
}
}
