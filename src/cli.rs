//! The command line, defined in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::ConfigFile;
use crate::config::Schedule;

#[derive(Debug, Parser)]
#[command(name = "rollcall", version = crate::about::VERSION, about = "Attendance from lecture recordings: dlib face recognition over MPI ranks, HDF5 + Excel reports.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// More detail: -v for debug messages (and worker ranks' info), -vv for everything.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, display_order = 1000)]
    pub verbose: u8,
    /// Only warnings and errors: no progress, no summary.
    #[arg(short, long, global = true, conflicts_with = "verbose", display_order = 1000)]
    pub quiet: bool,
}

impl Cli {
    /// Log level offset: +1 per -v, -1 for -q.
    pub fn verbosity(&self) -> i8 {
        if self.quiet {
            -1
        } else {
            self.verbose.min(3) as i8
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Enrol students from a folder of photos into a roster file, or one face from a finished run.
    #[command(after_help = "\
Layout of PHOTOS_DIR:
  <student_id>.jpg|jpeg|png            one photo per student, or
  <student_id>/<any>.jpg|jpeg|png      several photos per student
  roster.csv (optional)                columns student_id,name (name defaults to the id)
Every photo must show exactly one face; otherwise nothing is written and every bad photo is named.
Three photos a student (front, left and right three-quarter) match turned faces far better than
one; enroll names the students with a single photo.

Examples:
  rollcall enroll data/lecture/photos -o roster.h5
  rollcall enroll --from-run out/attendance.h5 --unknown 1 --as alice --name \"Alice Liddell\" --roster roster.h5")]
    Enroll(EnrollArgs),
    /// Take attendance from a lecture video (run under mpirun/srun for several ranks).
    #[command(after_help = "\
Writes OUT_DIR/attendance.h5, attendance.xlsx, attendance.csv and detections.csv.
Every flag has a key of the same name in the YAML config (see configs/default.yaml); flags win.

Examples:
  rollcall attend lecture.avi --roster roster.h5 -o out/
  mpirun -n 4 rollcall attend lecture.avi --roster roster.h5 -o out/ --every 25 --scale 0.5
  srun --mpi=pmix rollcall attend --config configs/lecture.yaml
  srun --mpi=pmix rollcall attend --manifest jobs/demo-semester.yaml --lecture $SLURM_ARRAY_TASK_ID")]
    Attend(AttendArgs),
    /// Take attendance from one large photo, cut into tiles spread over the ranks.
    #[command(after_help = "\
Writes the same reports as attend; the photo counts as one sampled frame, so presence is 0 or 1.
Neighbouring tiles overlap by --overlap pixels; a face seen in two tiles is counted once.

Examples:
  rollcall photo hall.jpg --roster roster.h5 -o out/photo
  mpirun -n 8 rollcall photo hall-8k.png --roster roster.h5 -o out/photo --tile 2048 --overlap 384")]
    Photo(PhotoArgs),
    /// Convert a large image to grayscale in bands across the ranks (a memory-bound benchmark).
    #[command(after_help = "\
Gray = 0.299 R + 0.587 G + 0.114 B, rounded to nearest: the output is byte-identical for any
number of ranks and schedule. Writes OUT.png, and OUT.h5 and OUT.xlsx with per-rank times,
the speedup over one rank (sum of busy times over the makespan), efficiency and bytes moved
per second.

Example:
  mpirun -n 4 rollcall gray photo-8k.png -o gray.png --band-rows 256 --schedule dynamic")]
    Gray(GrayArgs),
    /// Rebuild attendance.xlsx, attendance.csv and detections.csv from a run's HDF5 file alone.
    #[command(after_help = "\
No video and no models are needed: everything is in the HDF5 file.

Example:
  rollcall report out/week3/attendance.h5 -o out/week3-again")]
    Report(ReportArgs),
    /// Combine many lectures into one student × lecture table (semester.xlsx + semester.csv), and
    /// attendance-long.csv (a row per student and lecture) for a learning platform's import.
    #[command(after_help = "\
Students are merged by id; a student missing from a lecture's roster shows as \"not enrolled\",
not as absent. Students whose mean presence is under --threshold are highlighted.
A teacher's corrections and excused absences (--overrides) replace rollcall's status of a cell
at every aggregation; the workbook shows each beside what rollcall measured (sheet Overrides).

Examples:
  rollcall semester out/*/attendance.h5 -o semester.xlsx
  rollcall semester --manifest jobs/cs101.yaml -o cs101.xlsx --overrides overrides.csv")]
    Semester(SemesterArgs),
    /// Speedup and efficiency from runs of one job on different numbers of ranks.
    #[command(after_help = "\
Each run's schedule, ranks and threads come from its HDF5 file; runs with the same three are
repetitions, summarised as mean ± standard deviation, min and max of the makespan, speedup and
efficiency with their spread, and the Karp-Flatt serial fraction. Speedup is against the mean
1-rank makespan of the same schedule. Runs must share the video, settings, roster, software
and CPU model, or are refused. Writes FILE.xlsx (table and charts), FILE.csv, FILE.json and
FILE.md (a Markdown table for a paper or a wiki), and prints the Markdown table.

Example:
  rollcall scaling out/scaling/*/attendance.h5 -o out/scaling/scaling.xlsx")]
    Scaling(ScalingArgs),
    /// Predict how a run would scale to more ranks, before spending allocation hours on it.
    #[command(after_help = "\
A discrete-event simulation of the schedulers (the same protocol as a real job: prefetching
workers, the master handling one message at a time, network latency, decoding to reach a unit),
driven by the per-frame costs in RUN.h5's own timeline. Writes OUT_DIR/simulation.csv and
OUT_DIR/simulation.xlsx (table, speedup and efficiency charts) and prints the table.
Calibrate on small runs first: predict the 2-rank run from the 1-rank run and compare.

Examples:
  rollcall simulate out/one-rank/attendance.h5 -o out/sim
  rollcall simulate RUN.h5 -o out/sim --schedule dynamic --chunk 16 --minutes 90 --latency-us 2
  rollcall simulate RUN.h5 -o out/sim --ranks 1,2 --slow 1:2")]
    Simulate(SimulateArgs),
    /// Measure what busy cores cost each other on this node, for simulate/probe --node.
    #[command(after_help = "\
Replays a few units of RUN.h5 (its video, roster and settings, one thread per worker) as 1, 2,
4, ... up to --max-ranks workers at once, and writes each count's cost per frame over the cost
of one worker alone: NODE.yaml's `slowdown:` map, e.g. {1: 1.0, 2: 1.04, 16: 1.30}, with its
spread and what was measured where. Run it on an idle node of the kind the job will use (a
whole node: slurm/calibrate-node.sbatch); no MPI is needed.

Examples:
  rollcall calibrate-node out/one-rank/attendance.h5 -o node.yaml
  rollcall simulate out/one-rank/attendance.h5 -o out/sim --node node.yaml --ranks-per-node 16")]
    CalibrateNode(CalibrateNodeArgs),
    /// List the lectures of a semester manifest (what a Slurm job array will run).
    #[command(after_help = "\
Prints one line per lecture: index, name, video, date, title. Checks that every video and
roster exists, so a typo fails here rather than in the middle of a job array.

Example:
  rollcall lectures jobs/demo-semester.yaml
  rollcall lectures --count jobs/demo-semester.yaml")]
    Lectures(LecturesArgs),
    /// Compose a test recording with known attendance from face photos.
    #[command(after_help = "\
Writes the video, the enrolment photos (+ roster.csv) of everyone marked `enrolled`, and the
ground truth next to the video: truth.csv (student_id,status,arrive_s,leave_s) and
visibility.csv (every face in the room, frame by frame, with its box and whether it shows).
A scenario places faces by position (data/lecture/scenario.yaml) or by seat in a lecture hall
seen in perspective, with arrivals, departures and looking down (data/hall/scenario.yaml).
.avi is MJPEG (every frame a keyframe); .mp4 is H.264 at a lecture-capture bitrate (needs ffmpeg).

Examples:
  rollcall synth data/lecture/scenario.yaml --video data/lecture/lecture.avi --photos data/lecture/photos
  rollcall synth data/hall/scenario.yaml --video data/hall/hall.mp4 --photos data/hall/photos")]
    Synth(SynthArgs),
    /// Look at a recording before submitting a job: what each detector finds and costs.
    #[command(after_help = "\
Analyses --frames frames spread over the recording with hog looking for faces from 40 px and
from 20 px, cnn from 40 px (from 20 px it takes about a minute a 720p frame on one core), and
yunet from 20 px (skipped, with a warning, where its library is missing), and
prints per trial the faces found (on the frames every trial analysed), how many match --roster, and the time per frame; a histogram of face widths;
and the settings to submit with, with the wall time the simulator predicts for the whole
recording on --ranks ranks. A trial stops after 20 s (at least 2 frames): the cnn is slow on
one core. --json prints the same as JSON.

Examples:
  rollcall probe lecture.mp4 --roster roster.h5 --ranks 16
  rollcall probe lecture.mp4 --json > probe.json")]
    Probe(ProbeArgs),
    /// Score a finished run against the ground truth of its recording.
    #[command(after_help = "\
Prints, per student, the true and the found status with arrival and departure; then detection
recall by face width and identity precision (with --visibility), false identities (faces given
to a student who was not in the room) and, last, `students right: K/N`. Exits 0 whatever the
score: it is a measurement. `rollcall synth` writes truth.csv and visibility.csv.

Example:
  rollcall eval out/hall --truth data/hall/truth.csv --visibility data/hall/visibility.csv")]
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct EnrollArgs {
    /// Folder of enrolment photos.
    #[arg(required_unless_present = "from_run")]
    pub photos_dir: Option<PathBuf>,
    /// Roster file to write.
    #[arg(short, long, value_name = "ROSTER.h5", required_unless_present = "from_run")]
    pub output: Option<PathBuf>,
    /// Enrol a person from a finished run instead of photos: unenrolled person N (--unknown) of
    /// RUN.h5 (a result of a run with --keep-unknown) becomes an enrolment of student --as in
    /// --roster, which is rewritten whole. Faces from the lecture camera itself match that
    /// student in later lectures better than an old ID photo.
    #[arg(long, value_name = "RUN.h5", requires_all = ["unknown", "as_id", "roster"], conflicts_with_all = ["photos_dir", "output"])]
    pub from_run: Option<PathBuf>,
    /// With --from-run: the unenrolled person's number, as report.html shows it ("unenrolled #N").
    #[arg(long, value_name = "N", requires = "from_run")]
    pub unknown: Option<u32>,
    /// With --from-run: the student id to enrol them as: a new student, or another enrolment of
    /// an existing one.
    #[arg(long = "as", value_name = "ID", requires = "from_run")]
    pub as_id: Option<String>,
    /// With --from-run: the new student's name [default: the id].
    #[arg(long, value_name = "NAME", requires = "from_run")]
    pub name: Option<String>,
    /// With --from-run: the roster to add the enrolment to.
    #[arg(long, value_name = "ROSTER.h5", requires = "from_run")]
    pub roster: Option<PathBuf>,
    /// Folder of the dlib models [default: $ROLLCALL_MODELS, else data/models].
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Times the photo is doubled in size before detection, 0 to 2 (faces under ~80 px need 1).
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=2))]
    pub upsample: u32,
    /// Face detector: `cnn` and `yunet` also find the turned faces of three-quarter photos
    /// (`yunet` in a fraction of the time).
    #[arg(long, value_enum, default_value_t = crate::face::Detector::Hog)]
    pub detector: crate::face::Detector,
    /// Replace an existing roster file.
    #[arg(long)]
    pub force: bool,
}

/// What `attend` and `photo` share: the config file, what to do with an earlier run, and
/// the settings (each flag is declared, with its config key, in [`ConfigFile`]).
#[derive(Debug, Args)]
pub struct JobArgs {
    /// YAML file with any of the settings; flags override it.
    #[arg(long, value_name = "FILE.yaml")]
    pub config: Option<PathBuf>,
    /// Overwrite the outputs of an earlier run in OUT_DIR (or its unfinished journal).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Continue an interrupted run from its journal in OUT_DIR (starts afresh if there is none).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub settings: ConfigFile,
}

impl JobArgs {
    /// What to do with an output directory that already holds a run.
    pub fn existing(&self) -> crate::run::job::Existing {
        use crate::run::job::Existing;
        match (self.force, self.resume) {
            (true, _) => Existing::Replace,
            (_, true) => Existing::Resume,
            _ => Existing::Keep,
        }
    }
}

/// The settings of a photo (tiles) are hidden from `attend`, and a video's sampling from
/// `photo`: given anyway, they are refused with a message that says where they belong.
#[derive(Debug, Args)]
#[command(mut_arg("tile", |a| a.hide(true)), mut_arg("overlap", |a| a.hide(true)))]
pub struct AttendArgs {
    /// Lecture recording (any format FFmpeg reads) [config: video].
    pub video: Option<PathBuf>,
    #[command(flatten)]
    pub job: JobArgs,
    /// Take video, roster, output, title and date of lecture --lecture from this semester
    /// manifest (and its `config:` unless --config is given).
    #[arg(long, value_name = "FILE.yaml", requires = "lecture")]
    pub manifest: Option<PathBuf>,
    /// Which lecture of --manifest, from 0 (a Slurm array task passes $SLURM_ARRAY_TASK_ID).
    #[arg(long, value_name = "I", requires = "manifest")]
    pub lecture: Option<usize>,
}

impl AttendArgs {
    /// The flags as a config layer, to be laid over the file's.
    pub fn as_overrides(&self) -> ConfigFile {
        ConfigFile { video: self.video.clone(), ..self.job.settings.clone() }
    }
}

#[derive(Debug, Args)]
#[command(mut_arg("every", |a| a.hide(true)), mut_arg("fps", |a| a.hide(true)))]
pub struct PhotoArgs {
    /// A large class or lecture-hall photo (JPEG, PNG, ...) [config: video].
    pub image: Option<PathBuf>,
    #[command(flatten)]
    pub job: JobArgs,
}

impl PhotoArgs {
    /// The flags as a config layer, to be laid over the file's.
    pub fn as_overrides(&self) -> ConfigFile {
        ConfigFile { video: self.image.clone(), ..self.job.settings.clone() }
    }
}

#[derive(Debug, Args)]
pub struct GrayArgs {
    /// Colour image to convert.
    pub image: PathBuf,
    /// Grayscale PNG to write.
    #[arg(short, long, value_name = "OUT.png")]
    pub output: PathBuf,
    /// Rows per band (a band is a unit of work); `--tile`, its old name, still works [default: 256].
    #[arg(long, alias = "tile", value_name = "ROWS", default_value_t = crate::run::gray::DEFAULT_BAND_ROWS)]
    pub band_rows: u32,
    /// How bands are spread over ranks.
    #[arg(long, value_enum, default_value_t = Schedule::Block)]
    pub schedule: Schedule,
    /// Overwrite existing outputs.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// attendance.h5 written by `rollcall attend`.
    pub run: PathBuf,
    /// Folder to write the reports into.
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Overwrite reports already in DIR.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SemesterArgs {
    /// Results of `rollcall attend` (attendance.h5), one per lecture, in column order.
    #[arg(required_unless_present = "manifest")]
    pub runs: Vec<PathBuf>,
    /// Take the lectures (and their titles and dates) from a semester manifest instead.
    #[arg(long, value_name = "FILE.yaml", conflicts_with = "runs")]
    pub manifest: Option<PathBuf>,
    /// Workbook to write; the CSV goes next to it with the same stem (FILE.csv), and so does
    /// the long table an LMS imports (attendance-long.csv beside semester.xlsx,
    /// FILE-attendance-long.csv beside another name)
    /// [default with --manifest: semester.xlsx in the manifest's output folder].
    #[arg(short, long, value_name = "FILE.xlsx", required_unless_present = "manifest")]
    pub output: Option<PathBuf>,
    /// Highlight students whose mean presence is below this share.
    #[arg(long, default_value_t = crate::config::DEFAULT_THRESHOLD, value_name = "P")]
    pub threshold: f64,
    /// A teacher's corrections and excused absences: a CSV with the header
    /// student_id,lecture,status,reason,by; lecture is a manifest name (week1) or a column
    /// heading (2026-10-05 Introduction); status is Present, Absent or Excused (out of the mean).
    /// Replaces a manifest's `overrides:` [default: the manifest's, if any].
    #[arg(long, value_name = "FILE.csv")]
    pub overrides: Option<PathBuf>,
    /// With --manifest: build the table from the lectures that have a result and name those
    /// that have none yet (without it, any lecture without a result stops the command)
    #[arg(long, requires = "manifest")]
    pub skip_missing: bool,
    /// Overwrite an existing workbook.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ScalingArgs {
    /// Results of `rollcall attend` on the same video (attendance.h5), repetitions included.
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Workbook to write; the csv goes next to it with the same stem.
    #[arg(short, long, value_name = "FILE.xlsx")]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// A finished `rollcall attend` run (attendance.h5): its timeline gives the costs.
    pub run: PathBuf,
    /// Folder for simulation.csv and simulation.xlsx.
    #[arg(short, long, value_name = "OUT_DIR")]
    pub output: PathBuf,
    /// Numbers of ranks to predict.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4,8,16,32,64,128,256,512,1024")]
    pub ranks: Vec<usize>,
    /// Schedules to predict.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "block,cyclic,dynamic,guided")]
    pub schedule: Vec<Schedule>,
    /// Sampled frames per unit [default: the run's].
    #[arg(long, value_name = "K")]
    pub chunk: Option<usize>,
    /// Slower ranks, as RANK:FACTOR pairs (1:2 = rank 1 takes twice as long).
    #[arg(long, value_delimiter = ',', value_parser = parse_slow_rank, value_name = "RANK:FACTOR")]
    pub slow: Vec<(u32, f64)>,
    /// One-way message latency in microseconds (InfiniBand ~2, Ethernet ~30).
    #[arg(long, default_value_t = 5.0, value_name = "US")]
    pub latency_us: f64,
    /// Rank 0's time per message it handles, microseconds [default: measured in the run when
    /// it had several ranks, else 40].
    #[arg(long, value_name = "US")]
    pub master_us: Option<f64>,
    /// Predict a lecture of this many minutes (the run's cost profile, repeated).
    #[arg(long, value_name = "M")]
    pub minutes: Option<f64>,
    #[command(flatten)]
    pub node: crate::simulate::node::NodeArgs,
}

#[derive(Debug, clap::Args)]
pub struct CalibrateNodeArgs {
    /// A finished video run (its attendance.h5) whose video is still where it was.
    pub run: PathBuf,
    /// The node file to write.
    #[arg(short, long, value_name = "NODE.yaml")]
    pub output: PathBuf,
    /// Most workers at once [default: the cores this process may use].
    #[arg(long, value_name = "K")]
    pub max_ranks: Option<usize>,
    /// Units of the run each worker replays, spread over the recording.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub units: usize,
    /// Times each number of workers is measured (the spread comes from these).
    #[arg(long, default_value_t = 3, value_name = "R")]
    pub repeat: usize,
    /// Folder of the dlib models [default: the run's, else $ROLLCALL_MODELS, else data/models].
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Replace NODE.yaml if it exists.
    #[arg(long)]
    pub force: bool,
}

fn parse_slow_rank(text: &str) -> Result<(u32, f64), String> {
    let (rank, factor) = text.split_once(':').ok_or_else(|| format!("{text:?} is not RANK:FACTOR"))?;
    let rank = rank.trim().parse().map_err(|_| format!("{rank:?} is not a rank number"))?;
    let factor: f64 = factor.trim().parse().map_err(|_| format!("{factor:?} is not a number"))?;
    if !(factor >= 1.0 && factor.is_finite()) {
        return Err(format!("factor {factor} must be ≥ 1"));
    }
    Ok((rank, factor))
}

#[derive(Debug, Args)]
pub struct LecturesArgs {
    /// Semester manifest (see jobs/demo-semester.yaml).
    pub manifest: PathBuf,
    /// Print only the number of lectures.
    #[arg(long)]
    pub count: bool,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Output folder of a finished `rollcall attend` run (or its attendance.h5).
    pub run: PathBuf,
    /// The truth: one row per enrolled student, header `student_id,status,arrive_s,leave_s`.
    #[arg(long, value_name = "TRUTH.csv")]
    pub truth: PathBuf,
    /// Every face in the room frame by frame, for detection recall and identity precision
    /// [default: visibility.csv next to TRUTH.csv, when there is one].
    #[arg(long, value_name = "FILE.csv")]
    pub visibility: Option<PathBuf>,
    /// Also write the figures as `metric,value` rows to this CSV file.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Scenario file (see data/lecture/scenario.yaml).
    pub scenario: PathBuf,
    /// Video to write (.avi for MJPEG, .mp4 for H.264).
    #[arg(long, value_name = "FILE")]
    pub video: PathBuf,
    /// Folder to write the enrolment photos and roster.csv into.
    #[arg(long, value_name = "DIR")]
    pub photos: PathBuf,
    /// Folder of the dlib models [default: $ROLLCALL_MODELS, else data/models].
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// The recording to look at.
    pub video: PathBuf,
    /// Roster from `rollcall enroll`: also count the faces that match an enrolled student.
    #[arg(long, value_name = "ROSTER.h5")]
    pub roster: Option<PathBuf>,
    /// Ranks to predict the job's wall time for.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub ranks: usize,
    /// Frames to analyse, spread evenly over the recording.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub frames: usize,
    /// Folder of the dlib models [default: $ROLLCALL_MODELS, else data/models].
    #[arg(long, value_name = "DIR")]
    pub models: Option<PathBuf>,
    /// Print the findings as JSON (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub node: crate::simulate::node::NodeArgs,
}
