//! Frame access: a frame read after a seek must be pixel-identical to the same frame read
//! sequentially, or ranks that start mid-video would analyse different pictures than one rank.

mod common;

use std::path::Path;

use opencv::core::Mat;
use opencv::prelude::*;
use rollcall::media::{probe, Reader, VideoReader};

fn bytes(m: &Mat) -> Vec<u8> {
    m.data_bytes().unwrap().to_vec()
}

/// Every frame of `path` in order, as OpenCV's reader decodes them: the reference the other
/// reads are held to.
fn every_frame(path: &Path) -> Vec<Vec<u8>> {
    let info = probe(path, None, Reader::default()).unwrap();
    let mut sequential = VideoReader::open(path, Reader::Opencv, info.stream).unwrap();
    let mut m = Mat::default();
    (0..info.frame_count)
        .map(|i| {
            assert!(sequential.read(i, &mut m).unwrap(), "{}: frame {i} did not decode", path.display());
            bytes(&m)
        })
        .collect()
}

/// Reads a scattered selection (backwards, forwards, long jumps and short gaps) through a
/// fresh reader of each kind, and every 10th frame as a job samples them, and compares each
/// with OpenCV's sequential read. Returns the frames each reader decoded for the samples.
fn assert_seeks_are_exact(path: &Path) -> Vec<(Reader, usize)> {
    let frames = every_frame(path);
    let stream = probe(path, None, Reader::default()).unwrap().stream;
    let n = frames.len();
    let order = [n - 1, n / 2, 3, n / 2 + 7, n / 2 + 90, 1, n - 2, 0, n / 3];
    let mut m = Mat::default();
    let mut decoded = Vec::new();
    for kind in [Reader::Opencv, Reader::Libav] {
        let mut seeking = VideoReader::open(path, kind, stream).unwrap();
        for &i in order.iter().filter(|&&i| i < n) {
            assert!(
                seeking.read(i, &mut m).unwrap(),
                "{} ({kind}): frame {i} did not decode after a seek",
                path.display()
            );
            assert!(
                bytes(&m) == frames[i],
                "{} ({kind}): frame {i} after a seek differs from the sequential read",
                path.display()
            );
        }
        let mut sampling = VideoReader::open(path, kind, stream).unwrap();
        for i in (0..n).step_by(10) {
            assert!(sampling.read(i, &mut m).unwrap(), "{} ({kind}): sampled frame {i} did not decode", path.display());
            assert!(
                bytes(&m) == frames[i],
                "{} ({kind}): sampled frame {i} differs from the sequential read",
                path.display()
            );
        }
        decoded.push((kind, sampling.decoded_frames()));
    }
    decoded
}

#[test]
fn seeking_is_frame_exact_in_the_mjpeg_lecture() {
    let decoded = assert_seeks_are_exact(&common::lecture_video());
    assert_eq!(decoded[1], (Reader::Libav, 30), "an intra-only stream: only the 30 sampled frames are decoded");
}

#[test]
fn seeking_is_frame_exact_in_a_real_world_xvid_file() {
    assert_seeks_are_exact(&common::setup_file("data/videos/Megamind.avi"));
}

/// The short hall: H.264 with B-frames (x264's default pyramid, as lecture-capture encoders
/// write it). Sampling every 10th frame, libav decodes the reference frames only.
#[test]
fn seeking_is_frame_exact_in_h264_with_b_frames() {
    let hall = common::setup_file("data/hall/hall.mp4");
    let decoded = assert_seeks_are_exact(&hall);
    let (opencv, libav) = (decoded[0].1, decoded[1].1);
    assert!(libav * 2 < opencv, "libav decoded {libav} frames for the samples, OpenCV {opencv}");
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
    let info = probe(&common::lecture_video(), None, Reader::default()).unwrap();
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
    let info = probe(&bugy, None, Reader::default()).unwrap();
    assert_eq!((info.frame_count, info.fps), (270, 30.0));
}

/// Runs the ffmpeg tool (installed by `make setup`) to make a test video.
fn ffmpeg(args: &[&str]) {
    let o = std::process::Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).output().unwrap();
    assert!(o.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// The lecture re-encoded by the ffmpeg tool with `args` (filters, codec, length) as
/// `dir/name`.
fn lecture_recoded(dir: &Path, name: &str, args: &[&str]) -> std::path::PathBuf {
    let recoded = dir.join(name);
    let lecture = common::lecture_video();
    ffmpeg(&[&["-i", lecture.to_str().unwrap()], args, &[recoded.to_str().unwrap()]].concat());
    recoded
}

/// `rollcall attend` on `video` with the lecture's roster into `out`.
fn attend(video: &Path, roster: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    common::run(common::rollcall_command(), &common::attend_args(video, roster, out, &[extra, &["-q"]].concat()))
}

/// A recording whose pixels lie on their side with a rotation tag (phones write one) is
/// analysed upright (#17 item 8): the same attendance as the upright original.
#[test]
fn a_video_with_a_rotation_tag_is_analysed_upright() {
    let tmp = tempfile::tempdir().unwrap();
    let tagged = tmp.path().join("tagged.mp4");
    // transpose=2 turns the pixels 90° counter-clockwise; the tag says to turn them back.
    let on_side = lecture_recoded(tmp.path(), "on_side.mp4", &["-vf", "transpose=2", "-c:v", "mpeg4", "-q:v", "3"]);
    ffmpeg(&["-i", on_side.to_str().unwrap(), "-c", "copy", "-metadata:s:v:0", "rotate=90", tagged.to_str().unwrap()]);
    let info = probe(&tagged, None, Reader::default()).unwrap();
    assert_eq!((info.width, info.height), (640, 360), "the size as seen upright");
    assert_seeks_are_exact(&tagged); // both readers turn it the same way

    let roster = common::enrol_lecture(tmp.path());
    let attendance = |video: &Path, out: &Path| {
        common::assert_success(&attend(video, &roster, out, &["--every", "30"]));
        common::read(&out.join("attendance.csv"))
    };
    assert_eq!(
        attendance(&tagged, &tmp.path().join("tagged")),
        attendance(&common::lecture_video(), &tmp.path().join("upright"))
    );
}

/// Asserts that `o` failed with one line that contains `message`, and left no reports.
fn assert_refused_without_reports(o: &std::process::Output, message: &str, out: &Path) {
    common::assert_refused(o, message);
    assert!(!out.join("attendance.csv").exists(), "no report");
}

/// An AVI whose stream header says 10 frames for 300 (#17 item 6): OpenCV would stop at the
/// tenth, so the run is refused with the command that rewrites the header, and the rewritten
/// file gives the original's attendance.
#[test]
fn a_header_that_under_states_the_frames_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let mut avi = std::fs::read(common::lecture_video()).unwrap();
    // The video stream header's dwLength: 7 fields of 4 bytes after `strh` and its size, the
    // type, the handler and the flags being 3 of them, priority and language sharing a 4th.
    let strh = avi.windows(4).position(|w| w == b"strh").unwrap();
    let length = strh + 8 + 32;
    assert_eq!(avi[length..length + 4], 300u32.to_le_bytes(), "the lecture's 300 frames");
    avi[length..length + 4].copy_from_slice(&10u32.to_le_bytes());
    let short = tmp.path().join("short_header.avi");
    std::fs::write(&short, avi).unwrap();

    let roster = common::enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o = attend(&short, &roster, &out, &[]);
    assert_refused_without_reports(&o, "its header says 10 frames but the stream holds 300 (29.9 s, not 1.0 s)", &out);
    let fixed = tmp.path().join("fixed.mkv");
    assert!(common::stderr(&o).contains("-c copy fixed.mkv"), "{}", common::stderr(&o));
    ffmpeg(&["-i", short.to_str().unwrap(), "-c", "copy", fixed.to_str().unwrap()]);
    common::assert_success(&attend(&fixed, &roster, &out, &[]));
    let expected = common::repo().join("data/lecture/expected_attendance.csv");
    assert_eq!(common::read(&out.join("attendance.csv")), common::read(&expected));
}

/// A variable-frame-rate recording (#17 item 7): the lecture's first 150 frames 0.1 s apart,
/// the next 150 one second apart. Read at a constant rate, Biden (there for the first 15 s of
/// 164) came out at about half the lecture; the run is refused with the conversion command,
/// and the converted file gives his true share.
#[test]
fn a_variable_frame_rate_is_refused_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let times = "setpts='if(lt(N,150),N*0.1,15+(N-150))/TB'";
    let vfr = lecture_recoded(tmp.path(), "vfr.mp4", &["-vf", times, "-fps_mode", "vfr", "-c:v", "mpeg4", "-q:v", "3"]);

    let roster = common::enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o = attend(&vfr, &roster, &out, &[]);
    assert_refused_without_reports(
        &o,
        "has a variable frame rate (frame 1 is shown at 0.10 s, not at 0.55 s as 1.83 fps puts it)",
        &out,
    );
    assert!(common::stderr(&o).contains("-fps_mode cfr -r 10 "), "{}", common::stderr(&o));
    let constant = tmp.path().join("constant.mp4");
    ffmpeg(&[
        "-i",
        vfr.to_str().unwrap(),
        "-fps_mode",
        "cfr",
        "-r",
        "10",
        "-c:v",
        "libx264",
        "-crf",
        "18",
        constant.to_str().unwrap(),
    ]);
    common::assert_success(&attend(&constant, &roster, &out, &["--fps", "0.5"]));
    let csv = common::read(&out.join("attendance.csv"));
    let biden = csv.lines().find(|l| l.starts_with("biden,")).unwrap();
    let fields: Vec<&str> = biden.split(',').collect();
    let (presence, last_seen): (f64, f64) = (fields[6].parse().unwrap(), fields[8].parse().unwrap());
    assert!(presence < 0.25 && (12.0..=16.0).contains(&last_seen), "Biden's share of the time:\n{csv}");
}

/// What the demuxer can tell about a file OpenCV cannot open is said, not "a codec OpenCV
/// lacks": an MP4 cut short before its index (`moov`, written last: a recording that did not
/// finish), and a file with sound but no picture.
#[test]
fn a_cut_short_mp4_and_an_audio_file_say_what_they_are() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = common::enrol_lecture(tmp.path());
    let whole = lecture_recoded(tmp.path(), "whole.mp4", &["-t", "3", "-c:v", "libx264"]);
    let bytes = std::fs::read(&whole).unwrap();
    let moov = bytes.windows(4).rposition(|w| w == b"moov").expect("an MP4 has a moov box") - 4;
    let cut = tmp.path().join("cut.mp4");
    std::fs::write(&cut, &bytes[..moov]).unwrap();
    let out = tmp.path().join("out");
    assert_refused_without_reports(&attend(&cut, &roster, &out, &[]), "is truncated or incomplete", &out);

    let sound = tmp.path().join("sound.m4a");
    ffmpeg(&["-f", "lavfi", "-i", "sine=duration=2", sound.to_str().unwrap()]);
    assert_refused_without_reports(&attend(&sound, &roster, &out, &[]), "has no video stream (only audio)", &out);

    // A recording stopped before its first frame: the muxer writes a file without streams.
    let empty = lecture_recoded(tmp.path(), "empty.mp4", &["-frames:v", "0", "-c:v", "libx264"]);
    assert_refused_without_reports(&attend(&empty, &roster, &out, &[]), "holds no streams at all", &out);
}

/// A recording of one frame is a video of one sampled frame (its face crops are read back with
/// the video reader, not as a photo), in MP4 and in AVI, where the reader cannot seek back to
/// the frame it has just read: every student seen has a crop.
#[test]
fn a_one_frame_video_is_analysed() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = common::enrol_lecture(tmp.path());
    for (name, codec) in [("one.mp4", "libx264"), ("one.avi", "copy")] {
        let one = lecture_recoded(tmp.path(), name, &["-frames:v", "1", "-c:v", codec]);
        let out = tmp.path().join(format!("out-{name}"));
        let o = attend(&one, &roster, &out, &[]);
        common::assert_success(&o);
        assert!(!common::stderr(&o).contains("could not be read back"), "{name}: {}", common::stderr(&o));
        let detections = common::read(&out.join("detections.csv"));
        assert!(detections.lines().skip(1).all(|l| l.starts_with("0,")), "{detections}");
        let seen = common::read(&out.join("attendance.csv")).lines().filter(|l| l.ends_with(",Present")).count();
        assert!(seen >= 2, "the first frame of the lecture shows two students: {detections}");
        let offsets = common::h5_dataset(&out, "/crops/offset");
        let offsets: Vec<u64> = offsets
            .split("(0):")
            .nth(1)
            .unwrap()
            .split('}')
            .next()
            .unwrap()
            .split(',')
            .map(|v| v.trim().parse().unwrap())
            .collect();
        let crops = offsets.windows(2).filter(|w| w[1] > w[0]).count();
        assert_eq!(crops, seen, "{name}: a crop for every student seen ({offsets:?})");
    }
}

/// A damaged frame between samples (#27): it is a reference of the sampled frames after it,
/// so libav decodes it, counts it among the decoded frames and warns, naming it, that the
/// sampled frames up to the next keyframe may show its errors.
#[test]
fn a_damaged_frame_between_samples_is_counted_and_warned_about() {
    let tmp = tempfile::tempdir().unwrap();
    let args = ["-t", "10", "-c:v", "libx264", "-preset", "veryfast", "-g", "50", "-bf", "0"];
    let video = lecture_recoded(tmp.path(), "damaged.mp4", &args);
    let packets = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "packet=pos,size", "-of", "csv=p=0"])
        .arg(&video)
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&packets.stdout).lines().nth(14).unwrap().to_owned();
    let (size, pos) = line.split_once(',').unwrap(); // ffprobe's order, not the one asked
    let (size, pos): (usize, usize) = (size.parse().unwrap(), pos.parse().unwrap());
    let mut bytes = std::fs::read(&video).unwrap();
    let mut noise = 0x2545_f491_u32;
    for byte in &mut bytes[pos + size / 10..pos + size * 9 / 10] {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        *byte = noise as u8;
    }
    std::fs::write(&video, bytes).unwrap();

    let roster = common::enrol_lecture(tmp.path());
    let out = tmp.path().join("out");
    let o = attend(&video, &roster, &out, &[]);
    common::assert_success(&o);
    let err = common::stderr(&o);
    assert!(err.contains("frame 14 (between sampled frames) is damaged"), "{err}");
    let decoded: f64 = common::ranks_field(&out, "decoded_frames").iter().sum();
    // Frames 0-40 (references of samples 10-40, the damaged one among them) and, after a seek
    // to the keyframe at 50, 50-90.
    assert_eq!(decoded, 82.0, "decoded frames");
}

/// The frames ffprobe (FFmpeg's own tool, decoding every frame) reports as keyframes, by
/// their number in display order, and how many frames it decoded.
fn keyframes_by_ffprobe(video: &Path) -> (Vec<u64>, u64) {
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v", "-show_entries", "frame=key_frame", "-of", "csv=p=0"])
        .arg(video)
        .output()
        .unwrap();
    assert!(o.status.success(), "ffprobe: {}", String::from_utf8_lossy(&o.stderr));
    // One line a frame, its flag first; the first frame may add a line of side data.
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    let flags: Vec<&str> = text.lines().filter_map(|line| line.split(',').next()).filter(|f| !f.is_empty()).collect();
    let keyframes = flags.iter().enumerate().filter(|(_, &flag)| flag == "1").map(|(frame, _)| frame as u64);
    (keyframes.collect(), flags.len() as u64)
}

/// `sample: keyframes` (#27) on a recording with a keyframe every 2 s and B-frames (so that
/// the container's index times are decoding times, not the frames shown): on 2 ranks, the
/// frames sampled are the keyframes, one per frame asked for, each nearest its time; every
/// face found is on one of them; a sample costs few decoded frames where sampling the frames
/// asked for walks to each. A rate the keyframes are too sparse for is warned about, with the
/// rate that samples keyframes only.
#[test]
fn sampling_keyframes_samples_the_keyframes_nearest_the_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let gop = ["-c:v", "libx264", "-preset", "veryfast", "-g", "20", "-keyint_min", "20", "-sc_threshold", "0"];
    let video = lecture_recoded(tmp.path(), "gop2s.mp4", &[&gop[..], &["-bf", "2"]].concat());
    let (keyframes, frame_count) = keyframes_by_ffprobe(&video);
    assert_eq!(keyframes[..3], [0, 20, 40], "a keyframe every 2 s at the lecture's 10 fps");
    let roster = common::enrol_lecture(tmp.path());

    // One frame asked for every 2.5 s (25 frames): the keyframe within 12 frames of each.
    let out = tmp.path().join("keyframes");
    let args = common::attend_args(&video, &roster, &out, &["--fps", "0.4", "--sample", "keyframes", "-q"]);
    common::assert_success(&common::run(common::mpirun_command(2), &args));
    let sampled = common::h5_integers(&out, "/video/sampled");
    let asked: Vec<u64> = (0..frame_count).step_by(25).collect();
    assert_eq!(sampled.len(), asked.len(), "one sample per frame asked for: {sampled:?}");
    for (&frame, &time) in sampled.iter().zip(&asked) {
        assert!(keyframes.contains(&frame), "frame {frame} sampled for {time} is not a keyframe: {sampled:?}");
        let nearest = keyframes.iter().map(|k| k.abs_diff(time)).min().unwrap();
        assert_eq!(frame.abs_diff(time), nearest, "frame {frame} is not the keyframe nearest {time}");
    }
    let frames_with_faces: std::collections::BTreeSet<u64> = common::read(&out.join("detections.csv"))
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        !frames_with_faces.is_empty() && frames_with_faces.iter().all(|f| sampled.contains(f)),
        "{frames_with_faces:?}"
    );
    let decoded: f64 = common::ranks_field(&out, "decoded_frames").iter().sum();
    assert!(decoded <= 3.0 * sampled.len() as f64, "{decoded} frames decoded for {} keyframes", sampled.len());

    let asked_frames = tmp.path().join("frames");
    common::assert_success(&attend(&video, &roster, &asked_frames, &["--fps", "0.4"]));
    assert_eq!(
        common::h5_integers(&asked_frames, "/video/sampled"),
        asked,
        "sample: frames samples the frames asked for"
    );
    let walked: f64 = common::ranks_field(&asked_frames, "decoded_frames").iter().sum();
    assert!(decoded < walked, "keyframes decoded {decoded} frames, the frames asked for {walked}");

    // One a second: half of them have no keyframe within half a second.
    let sparse = tmp.path().join("sparse");
    let o = attend(&video, &roster, &sparse, &["--fps", "1", "--sample", "keyframes"]);
    common::assert_success(&o);
    let err = common::stderr(&o);
    assert!(err.contains("have no keyframe within half of that (a keyframe every 2.0 s here)"), "{err}");
    assert!(err.contains("--fps 0.50 or less"), "{err}");
}
