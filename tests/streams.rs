//! Files whose streams or timelines a probe and a reader could read two ways: several video
//! streams, and recordings joined end to end so that their timestamps start again.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// Runs ffmpeg (quiet, overwriting) with `args`, asserting it succeeded.
fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg").args(["-v", "error", "-y"]).args(args).output().expect("ffmpeg runs");
    assert!(o.status.success(), "ffmpeg {args:?}: {}", stderr(&o));
}

/// A scalar attribute of OUT/attendance.h5 as h5dump prints it, unquoted.
fn scalar(out: &Path, path: &str) -> String {
    let dump = h5_attribute(out, path);
    let value = dump.split_once("(0): ").expect("h5dump prints the value").1;
    value.lines().next().unwrap().trim().trim_matches('"').to_owned()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The short hall as stream 1, flagged as the main picture, behind a small grey stream 0 of
/// 5 s (a slide or preview track): the probe and the reader must read the same stream.
fn hall_behind_a_small_stream(dir: &Path) -> PathBuf {
    let two = dir.join("two-streams.mp4");
    let hall = hall_video();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=160x90:r=25:d=5",
        "-i",
        text(&hall),
        "-map",
        "0:v",
        "-map",
        "1:v",
        "-c:v:0",
        "libx264",
        "-c:v:1",
        "copy",
        "-disposition:v:0",
        "0",
        "-disposition:v:1",
        "default",
        text(&two),
    ]);
    two
}

#[test]
fn a_file_with_two_video_streams_is_read_as_one_stream_named_in_the_log_and_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let two = hall_behind_a_small_stream(tmp.path());
    let sparse = ["--fps", "0.25"];

    let alone = tmp.path().join("alone");
    assert_success(&run(rollcall_command(), &attend_args(&hall_video(), &roster, &alone, &sparse)));
    let both = tmp.path().join("both");
    let o = run(rollcall_command(), &attend_args(&two, &roster, &both, &sparse));
    assert_success(&o);
    assert!(
        stderr(&o)
            .contains("holds 2 video streams (0, 1): reading stream 1, the one the file marks as its main picture"),
        "the log names the stream read:\n{}",
        stderr(&o)
    );
    assert_eq!(read(&both.join("attendance.csv")), read(&alone.join("attendance.csv")), "the lecture's attendance");
    assert_eq!(detections_without_rank(&both), detections_without_rank(&alone), "the lecture's faces");
    assert_eq!(scalar(&both, "/video/stream"), "1");
    assert_eq!(scalar(&both, "/video/width_px"), "1280");
    assert_eq!(scalar(&alone, "/video/stream"), "0");

    // The other stream on request; a stream that is not there, and OpenCV's reader (which
    // reads only the first), are refused in one line before anything is written.
    let first = tmp.path().join("first");
    assert_success(&run(rollcall_command(), &attend_args(&two, &roster, &first, &["--stream", "0", "-q"])));
    assert_eq!(scalar(&first, "/video/width_px"), "160");
    assert_eq!(scalar(&first, "/settings/stream"), "0");
    for (flags, message) in [
        (&["--stream", "2"][..], "has no video stream 2 (stream: its video streams are 0, 1)"),
        (
            &["--reader", "opencv"][..],
            "OpenCV's reader reads only its first video stream, not stream 1: use --reader libav",
        ),
    ] {
        let out = tmp.path().join("refused");
        assert_refused(
            &run(rollcall_command(), &attend_args(&two, &roster, &out, &[&["-q"], flags].concat())),
            message,
        );
        assert!(!out.exists(), "{flags:?}: nothing written");
    }
}

#[test]
fn recordings_joined_end_to_end_are_refused_with_the_fix_which_then_runs_alike_on_any_ranks() {
    let tmp = tempfile::tempdir().unwrap();
    let roster = enrol_hall(tmp.path());
    let hall = hall_video();
    let (a, b, joined) = (tmp.path().join("a.ts"), tmp.path().join("b.ts"), tmp.path().join("joined.ts"));
    ffmpeg(&["-i", text(&hall), "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-an", text(&a)]);
    ffmpeg(&["-ss", "30", "-i", text(&hall), "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-an", text(&b)]);
    std::fs::write(&joined, [std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap()].concat()).unwrap();

    let out = tmp.path().join("out");
    let o = run(rollcall_command(), &attend_args(&joined, &roster, &out, &["-q"]));
    let err = assert_refused(&o, "its timestamps go back from 6.0 s to 0.0 s (recordings joined end to end");
    assert!(!out.exists(), "nothing written");
    // The command the line gives, run as given, makes a file analysed whole and alike on
    // one and two ranks.
    let fix = err.split('`').nth(1).expect("a command in backquotes");
    let fixed_args = shell_words::split(fix).unwrap();
    assert_eq!(fixed_args[0], "ffmpeg");
    let o =
        Command::new("ffmpeg").args(["-v", "error"]).args(&fixed_args[1..]).current_dir(tmp.path()).output().unwrap();
    assert!(o.status.success(), "{fix}: {}", stderr(&o));
    let fixed = tmp.path().join(fixed_args.last().unwrap());
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    assert_success(&run(rollcall_command(), &attend_args(&fixed, &roster, &one, &["-q", "--fps", "1"])));
    assert_success(&run(mpirun_command(2), &attend_args(&fixed, &roster, &two, &["-q", "--fps", "1"])));
    assert_eq!(detections_without_rank(&one), detections_without_rank(&two), "one rank and two");
    let frames: u64 = scalar(&one, "/video/frame_count").parse().unwrap();
    assert!(frames >= 295, "both recordings (12 s at 25 fps), not the first alone: {frames} frames");
}
