//! The settings' layers, defaults and ranges.

use std::path::Path;

use super::*;

fn minimal() -> ConfigFile {
    ConfigFile {
        video: Some("v.avi".into()),
        roster: Some("r.h5".into()),
        output: Some("out".into()),
        ..Default::default()
    }
}

#[test]
fn unknown_key_is_an_error() {
    let err = serde_norway::from_str::<ConfigFile>("tolerence: 0.5\n").unwrap_err();
    assert!(err.to_string().contains("unknown field `tolerence`"), "{err}");
}

#[test]
fn flags_override_file_and_every_replaces_fps() {
    let file = ConfigFile { fps: Some(2.0), tolerance: Some(0.5), ..minimal() };
    let flags = ConfigFile { every: Some(3), ..Default::default() };
    let s = Settings::from_config(file.overridden_by(flags).unwrap()).unwrap();
    assert_eq!(s.sampling, Sampling::Every(3));
    assert_eq!(s.attendance.tolerance, 0.5);
}

#[test]
fn out_of_range_values_are_refused() {
    for (bad, key) in [
        (ConfigFile { tolerance: Some(0.0), ..minimal() }, "tolerance"),
        (ConfigFile { tolerance: Some(1.5), ..minimal() }, "tolerance"),
        (ConfigFile { threshold: Some(-0.1), ..minimal() }, "threshold"),
        (ConfigFile { every: Some(0), ..minimal() }, "every"),
        (ConfigFile { reencode_every: Some(0), ..minimal() }, "reencode_every"),
        (ConfigFile { scale: Some(0.0), ..minimal() }, "scale"),
    ] {
        let err = Settings::from_config(bad).unwrap_err().to_string();
        assert!(err.starts_with(key), "{err}");
    }
}

/// Short recordings keep units of 4 frames a thread; from 32 units of 16 frames a thread on,
/// units of 16 and faces re-encoded once a unit. Either way the chunk is a multiple of
/// `reencode_every` (results do not depend on threads), and what a job leaves open is
/// filled while what it gives is kept.
#[test]
fn long_recordings_get_long_units() {
    for threads in 1..=4 {
        let long = LONG_RECORDING_UNITS * LONG_CHUNK * threads;
        assert_eq!(default_units(long - 1, threads), (DEFAULT_CHUNK * threads, DEFAULT_REENCODE_EVERY));
        assert_eq!(default_units(long, threads), (LONG_CHUNK * threads, LONG_REENCODE_EVERY));
        for frames in [0, long - 1, long] {
            let (chunk, every) = default_units(frames, threads);
            assert_eq!(chunk % every as usize, 0, "{frames} frames, {threads} threads");
        }
    }
    let mut open = Settings::from_config(minimal()).unwrap();
    open.fit_units_to(600);
    assert_eq!((open.parallel.chunk, open.attendance.reencode_every), (Some(16), Some(16)));
    let mut given = Settings::from_config(ConfigFile { chunk: Some(8), ..minimal() }).unwrap();
    given.fit_units_to(600);
    assert_eq!((given.parallel.chunk, given.attendance.reencode_every), (Some(8), Some(16)));
}

/// configs/default.yaml documents the defaults: loading it must change nothing.
#[test]
fn the_documented_defaults_are_the_defaults() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/default.yaml");
    let documented = Settings::from_config(ConfigFile::load(&path).unwrap().overridden_by(minimal()).unwrap()).unwrap();
    assert_eq!(documented, Settings::from_config(minimal()).unwrap());
}

#[test]
fn slow_ranks_come_from_the_bench_section() {
    let file: ConfigFile = serde_norway::from_str("bench:\n  slow_ranks: {\"1\": 2.0}\n").unwrap();
    let s = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
    assert_eq!((s.slowdown_of(1), s.slowdown_of(0)), (2.0, 1.0));
    assert_eq!(s.slow_ranks_text(), "1:2");
    let unquoted: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {0: 1.5}}").unwrap();
    assert_eq!(Settings::from_config(unquoted.overridden_by(minimal()).unwrap()).unwrap().slowdown_of(0), 1.5);
    let fast: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {0: 0.5}}").unwrap();
    assert!(Settings::from_config(fast.overridden_by(minimal()).unwrap()).is_err());
    let word: ConfigFile = serde_norway::from_str("bench: {slow_ranks: {one: 2}}").unwrap();
    assert!(Settings::from_config(word.overridden_by(minimal()).unwrap())
        .unwrap_err()
        .to_string()
        .contains("not a rank number"));
}

#[test]
fn settings_survive_a_yaml_round_trip() {
    let yaml = "title: Week 3\ndate: 2026-10-05\nevery: 5\nscale: 0.5\ntolerance: 0.55\nschedule: guided\nbench:\n  slow_ranks: {\"1\": 2.5}\n";
    let file: ConfigFile = serde_norway::from_str(yaml).unwrap();
    let settings = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
    assert_eq!(Settings::from_yaml(&settings.to_yaml().unwrap()).unwrap(), settings);
    let plain = Settings::from_config(minimal()).unwrap();
    assert_eq!(Settings::from_yaml(&plain.to_yaml().unwrap()).unwrap(), plain);
}

#[test]
fn windows_are_auto_or_seconds_in_the_file_and_on_the_command_line() {
    let auto = Settings::from_config(minimal()).unwrap();
    assert_eq!(auto.attendance.window, WindowLength::Auto);
    assert_eq!(auto.attendance.window.seconds(90.0 * 60.0), 300.0, "90 minutes: 18 windows of 5 minutes");
    assert_eq!(auto.attendance.window.seconds(120.0), 10.0);
    assert_eq!(auto.attendance.window.seconds(30.0), 10.0, "never under 10 s");
    let file: ConfigFile = serde_norway::from_str("window: 45\nrule: frames\ntrack_gap: 0\n").unwrap();
    let s = Settings::from_config(file.overridden_by(minimal()).unwrap()).unwrap();
    assert_eq!(
        (s.attendance.window, s.attendance.rule, s.attendance.track_gap),
        (WindowLength::Seconds(45.0), Rule::Frames, 0.0)
    );
    assert_eq!(Settings::from_yaml(&s.to_yaml().unwrap()).unwrap(), s);
    for bad in ["window: soon", "window: 0", "window: -3", "track_gap: -1"] {
        let file: ConfigFile = serde_norway::from_str(bad).unwrap();
        assert!(Settings::from_config(file.overridden_by(minimal()).unwrap()).is_err(), "{bad}");
    }
    assert!(serde_norway::from_str::<ConfigFile>("rule: majority").is_err());
}

#[test]
fn min_face_sets_upsampling_and_scale_for_the_detector() {
    let resolution_of = |yaml: &str, detector: Detector| {
        let mut file: ConfigFile = serde_norway::from_str(yaml).unwrap();
        file.detector.get_or_insert(detector);
        Settings::from_config(file.overridden_by(minimal()).unwrap())
            .map(|s| (s.detection.min_face, s.detection.upsample, s.detection.scale))
    };
    assert_eq!(resolution_of("{}", Detector::default()).unwrap(), (40, 0, 1.0), "YuNet by default, 40 px as it is");
    // The rest: HOG unless the case names a detector.
    let resolution = |yaml: &str| resolution_of(yaml, Detector::Hog);
    assert_eq!(resolution("{}").unwrap(), (40, 1, 1.0), "face_recognition's default: HOG, one upsampling");
    assert_eq!(resolution("min_face: 24").unwrap(), (24, 2, 1.0));
    assert_eq!(resolution("min_face: 80").unwrap(), (80, 0, 1.0));
    assert_eq!(resolution("min_face: 200").unwrap(), (200, 0, 0.4), "large faces: down-scaled");
    assert_eq!(resolution("detector: cnn").unwrap(), (40, 1, 1.0), "MMOD as face_recognition runs it");
    assert_eq!(resolution("{detector: cnn, min_face: 20}").unwrap(), (20, 2, 1.0));
    assert_eq!(resolution("upsample: 0").unwrap(), (80, 0, 1.0), "an override says what it finds");
    assert_eq!(resolution("{upsample: 2, min_face: 24}").unwrap(), (24, 2, 1.0), "consistent");
    assert_eq!(resolution("scale: 0.5").unwrap(), (80, 1, 0.5), "HOG's own upsampling beside a scale");
    assert_eq!(
        resolution("{detector: yunet, scale: 1.0}").unwrap(),
        (16, 0, 1.0),
        "YuNet's own upsampling is none: a scale alone does not double its frame"
    );
    let err = |yaml: &str| resolution(yaml).unwrap_err().to_string();
    assert!(err("{min_face: 24, upsample: 1}").contains("min_face 24 contradicts upsample 1"));
    assert!(err("{min_face: 40, scale: 0.5}").contains("contradicts upsample 1 and scale 0.5"));
    assert!(
        err("min_face: 10").contains("min_face 10 px is narrower than the hog detector finds at 2 upsamplings (20 px)")
    );
    assert!(
        err("{detector: cnn, min_face: 10}").contains("narrower than the cnn detector finds at 2 upsamplings (20 px)")
    );
    assert!(err("min_face: 0").starts_with("min_face must be at least 1 px"));
    assert!(serde_norway::from_str::<ConfigFile>("detector: dnn").is_err());
    let s = Settings::from_config(
        serde_norway::from_str::<ConfigFile>("{detector: hog, min_face: 200}")
            .unwrap()
            .overridden_by(minimal())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(Settings::from_yaml(&s.to_yaml().unwrap()).unwrap(), s, "derived values survive a round trip");
}

#[test]
fn fps_sampling_turns_into_a_stride() {
    assert_eq!(Sampling::Fps(1.0).stride(25.0), 25);
    assert_eq!(Sampling::Fps(100.0).stride(25.0), 1);
    assert_eq!(Sampling::Every(7).stride(25.0), 7);
}
