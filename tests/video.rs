//! Frame access: a frame read after a seek must be pixel-identical to the same frame read
//! sequentially, or ranks that start mid-video would analyse different pictures than one rank.

mod common;

use std::path::Path;

use opencv::core::Mat;
use opencv::prelude::*;
use rollcall::video::{probe, VideoReader};

fn bytes(m: &Mat) -> Vec<u8> {
    m.data_bytes().unwrap().to_vec()
}

/// Reads every frame in order, then reads a scattered selection (backwards, forwards, long
/// jumps and short gaps) through a fresh reader and compares.
fn assert_seeks_are_exact(path: &Path) {
    let info = probe(path).unwrap();
    let mut sequential = VideoReader::open(path).unwrap();
    let mut frames = Vec::new();
    let mut m = Mat::default();
    for i in 0..info.frame_count {
        assert!(sequential.read(i, &mut m).unwrap(), "{}: frame {i} did not decode", path.display());
        frames.push(bytes(&m));
    }
    let n = info.frame_count;
    let order = [n - 1, n / 2, 3, n / 2 + 7, n / 2 + 90, 1, n - 2, 0, n / 3];
    let mut seeking = VideoReader::open(path).unwrap();
    for &i in order.iter().filter(|&&i| i < n) {
        assert!(seeking.read(i, &mut m).unwrap());
        assert!(bytes(&m) == frames[i], "{}: frame {i} after a seek differs from the sequential read", path.display());
    }
}

#[test]
fn seeking_is_frame_exact_in_the_mjpeg_lecture() {
    assert_seeks_are_exact(&common::lecture_video());
}

#[test]
fn seeking_is_frame_exact_in_a_real_world_xvid_file() {
    assert_seeks_are_exact(&common::setup_file("data/videos/Megamind.avi"));
}

#[test]
fn seeking_is_frame_exact_in_mpeg4_with_inter_frames() {
    let tmp = tempfile::tempdir().unwrap();
    let video = tmp.path().join("lecture.mp4");
    let o = common::run(
        common::rollcall_command(),
        &[
            "synth",
            "data/lecture/scenario.yaml",
            "--video",
            video.to_str().unwrap(),
            "--photos",
            tmp.path().join("p").to_str().unwrap(),
        ],
    );
    common::assert_success(&o);
    assert_seeks_are_exact(&video);
}

#[test]
fn probe_reports_what_the_scenario_built() {
    let info = probe(&common::lecture_video()).unwrap();
    assert_eq!((info.frame_count, info.fps, info.width, info.height), (300, 10.0, 640, 360));
}

/// Debian's opencv-doc ships Megamind_bugy.avi as a damaged sample: a smaller encoding of the
/// Megamind clip whose header claims 30 fps where the original says 24. FFmpeg reports no
/// decoding error and every frame decodes and seeks exactly; what is off is the clock, so its
/// reports' times follow the header (rollcall cannot know better).
#[test]
fn the_damaged_megamind_sample_decodes_and_seeks_exactly() {
    let bugy = common::setup_file("data/videos/Megamind_bugy.avi");
    assert_seeks_are_exact(&bugy);
    let info = probe(&bugy).unwrap();
    assert_eq!((info.frame_count, info.fps), (270, 30.0));
}

/// A recording whose pixels lie on their side with a rotation tag (phones write one) is
/// analysed upright (#17 item 8): the same attendance as the upright original.
#[test]
fn a_video_with_a_rotation_tag_is_analysed_upright() {
    let tmp = tempfile::tempdir().unwrap();
    let on_side = tmp.path().join("on_side.mp4");
    let tagged = tmp.path().join("tagged.mp4");
    let ffmpeg = |args: &[&str]| {
        let o = std::process::Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).output().unwrap();
        assert!(o.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let lecture = common::lecture_video();
    // transpose=2 turns the pixels 90° counter-clockwise; the tag says to turn them back.
    ffmpeg(&["-i", lecture.to_str().unwrap(), "-vf", "transpose=2", "-c:v", "mpeg4", "-q:v", "3", on_side.to_str().unwrap()]);
    ffmpeg(&["-i", on_side.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", "rotate=90", tagged.to_str().unwrap()]);
    let info = probe(&tagged).unwrap();
    assert_eq!((info.width, info.height), (640, 360), "the size as seen upright");

    let roster = common::enrol_lecture(tmp.path());
    let attend = |video: &Path, out: &Path| {
        common::assert_success(&common::run(common::rollcall_command(), &common::attend_args(video, &roster, out, &["--every", "30", "-q"])));
        common::read(&out.join("attendance.csv"))
    };
    assert_eq!(attend(&tagged, &tmp.path().join("tagged")), attend(&lecture, &tmp.path().join("upright")));
}
