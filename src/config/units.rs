//! The length of a unit of work and how often every face is encoded, fitted together to the
//! recording: a unit starts with every face encoded, so the two are chosen as one.

/// Sampled frames per unit of work and thread when nobody says otherwise: large enough that
/// a unit's seek and bookkeeping are negligible next to detection, small enough to balance two
/// ranks on a short clip. A long recording gets [`LONG_CHUNK`] (see [`default_units`]).
pub const DEFAULT_CHUNK: usize = 4;

/// Sampled frames per unit and thread on a long recording: every unit starts with every face
/// encoded, so longer units let a seated student be followed longer (see
/// [`LONG_REENCODE_EVERY`]).
pub const LONG_CHUNK: usize = 16;

/// A recording is long when it holds at least this many units of [`LONG_CHUNK`] a thread:
/// enough for 16 ranks to get two each, so that the dynamic schedule still balances them.
pub const LONG_RECORDING_UNITS: usize = 32;

/// Every face is encoded each this many sampled frames, a face surely matched in its seat
/// followed between (see `run::follow`): at 1 fps a seated student is encoded every 4 s
/// (measured in the note of the issue that brought it: the same attendance on the lecture and
/// both halls). The default chunk (4 a thread) is a multiple of it.
pub const DEFAULT_REENCODE_EVERY: u32 = 4;

/// [`DEFAULT_REENCODE_EVERY`] on a long recording, where units hold [`LONG_CHUNK`] frames a
/// thread: measured on the long hall of bench-accuracy (yunet, 2 ranks), 7.3 faces encoded a
/// sampled frame instead of 11.7 and 18.5 core-s per lecture-minute instead of 21.5, with the
/// same 39/41 students right and 14020/14020 identity precision.
pub const LONG_REENCODE_EVERY: u32 = 16;

/// The chunk and `reencode_every` of a job that leaves them open, from the frames it samples
/// and its threads: [`LONG_CHUNK`] a thread and [`LONG_REENCODE_EVERY`] on a long recording
/// ([`LONG_RECORDING_UNITS`]), else [`DEFAULT_CHUNK`] a thread and [`DEFAULT_REENCODE_EVERY`].
/// The chunk is always a multiple of `reencode_every`, so which faces are encoded does not
/// depend on the threads; neither depends on the ranks.
pub fn default_units(sampled_frames: usize, threads: usize) -> (usize, u32) {
    let threads = threads.max(1);
    if sampled_frames >= LONG_RECORDING_UNITS * LONG_CHUNK * threads {
        (LONG_CHUNK * threads, LONG_REENCODE_EVERY)
    } else {
        (DEFAULT_CHUNK * threads, DEFAULT_REENCODE_EVERY)
    }
}
