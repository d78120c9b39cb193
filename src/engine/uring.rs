//! The compio (io_uring) engine: a few threads, each with its own ring and
//! a fixed number of "lanes" — tasks that each copy one file at a time —
//! so many files are in flight at once while memory stays bounded
//! (one reusable buffer per lane).
//!
//! Jobs come from one shared bounded queue, so an idle lane on any thread
//! takes the next file (natural load balancing); results go back on an
//! unbounded queue the driver drains in its own time.
//!
//! Threads start as the work asks for them, the first with the first
//! job; a lone small first job the driver waits for is copied on the
//! driver's own thread instead (see `UringEngine::holds`), so copying one
//! small file starts no thread at all.

use std::num::NonZero;
use std::sync::Arc;
use std::thread::JoinHandle;

use compio::driver::ProactorBuilder;

use super::copy::copy_one;
use super::error::CopyError;
use super::{Config, CopyJob, Done, Engine, Outcome, TICK};

pub(super) struct UringEngine {
    /// The queue to the I/O threads, made with the first of them (its
    /// bound depends on how many there may be); `None` again once closed.
    jobs: Option<flume::Sender<Vec<CopyJob>>>,
    /// Kept to hand to threads started later.
    jobs_rx: Option<flume::Receiver<Vec<CopyJob>>>,
    done_tx: std::sync::mpsc::Sender<Done>,
    done: std::sync::mpsc::Receiver<Done>,
    cfg: Arc<Config>,
    /// The I/O threads started so far: one at the first job, another
    /// each time the work sent exceeds what the running ones' lanes hold,
    /// up to `cfg.threads()`. A run with nothing or little to copy pays
    /// for one ring (or none) rather than one per core.
    threads: Vec<JoinHandle<()>>,
    /// `cfg.threads()`, once a thread is started.
    max_threads: usize,
    /// Jobs not yet sent: the queue is crossed in batches, because each
    /// crossing costs lock traffic and a wake-up on both sides.
    batch: Vec<CopyJob>,
    /// Jobs sent and not yet done.
    outstanding: usize,
    /// Keep at least this many jobs with the workers before batching up.
    low_water: usize,
    /// The caller's own ring, for a first job copied on the caller's
    /// thread (see [`UringEngine::holds`]), and that lane's buffer.
    inline: Option<(compio::runtime::Runtime, Vec<u8>)>,
}

/// Jobs per queue crossing once the workers are busy.
const BATCH: usize = 64;

/// The largest file the caller's thread copies itself when it is the
/// only job (see [`UringEngine::holds`]): a few milliseconds of copying
/// at most, so the driver's idle work (progress, `--timeout`) waits no
/// longer than one of its ticks would.
const INLINE_MAX: u64 = 8 << 20;

impl UringEngine {
    pub(super) fn start(cfg: Config) -> UringEngine {
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Done>();
        UringEngine {
            jobs: None,
            jobs_rx: None,
            done_tx,
            done: done_rx,
            cfg: Arc::new(cfg),
            threads: Vec::new(),
            max_threads: 0,
            batch: Vec::with_capacity(BATCH),
            outstanding: 0,
            // Until the first thread: every job is sent at once.
            low_water: usize::MAX,
            inline: None,
        }
    }

    /// Whether the one job submitted so far is held back rather than
    /// sent: no I/O thread runs yet, and it is small, shows no live
    /// progress and is not paced by `--bwlimit`. A second job starts the threads and goes with it; if the
    /// driver waits first, the caller's thread copies it (`run_inline`).
    /// A run of one small file so pays for one ring and no thread: with
    /// its start and end, and the hand-offs to and from it, the thread
    /// was a third of such a run's system calls.
    fn holds(&self) -> bool {
        self.threads.is_empty()
            && self.outstanding == 0
            && !self.cfg.pace.limited()
            && matches!(&self.batch[..], [job] if job.size <= INLINE_MAX && job.live.is_none())
    }

    /// Copies the held job on the caller's thread, with a ring of its own
    /// (made once); `false` if no ring could be made (the job then goes
    /// to an I/O thread, which reports the failure as it would).
    fn run_inline(&mut self) -> bool {
        if self.inline.is_none() {
            let Ok(rt) = runtime(&self.cfg) else {
                return false;
            };
            self.inline = Some((rt, Vec::new()));
        }
        let (Some((rt, buf)), Some(job)) = (self.inline.as_mut(), self.batch.pop()) else {
            return false;
        };
        let outcome = rt.block_on(copy_one(&job, &self.cfg, buf));
        let token = job.token;
        self.outstanding += 1;
        // The receiver is ours: sending cannot fail.
        let _ = self.done_tx.send(Done { token, outcome });
        true
    }

    /// Starts another I/O thread when the jobs about to be in flight fill
    /// the lanes of those running (the first job starts the first).
    fn grow(&mut self, sending: usize) {
        let running = self.threads.len();
        let busy = self.outstanding + sending;
        if running > 0 && (running >= self.max_threads || busy <= running * self.cfg.lanes) {
            return;
        }
        if running == 0 {
            self.max_threads = self.cfg.threads().max(1);
            let (tx, rx) = flume::bounded::<Vec<CopyJob>>(self.max_threads * 2);
            (self.jobs, self.jobs_rx) = (Some(tx), Some(rx));
            self.low_water = self.max_threads * self.cfg.lanes;
        }
        let Some(jobs_rx) = &self.jobs_rx else {
            return;
        };
        let (rx, tx, cfg) = (jobs_rx.clone(), self.done_tx.clone(), Arc::clone(&self.cfg));
        let spawned = std::thread::Builder::new()
            .name(format!("arsync-io-{running}"))
            .spawn(move || worker(rx, tx, cfg));
        match spawned {
            Ok(t) => self.threads.push(t),
            // The threads already running take the work; with none, the
            // jobs fail one by one below (the queue has no reader).
            Err(_) if running > 0 => {}
            Err(e) => self.fail_batch(&e.to_string()),
        }
    }
    /// Fails the batch's jobs when no I/O thread could be started.
    fn fail_batch(&mut self, why: &str) {
        let msg = CopyError::EngineStart(std::io::Error::other(why.to_string())).to_string();
        for job in self.batch.drain(..) {
            let outcome = Outcome::Fatal(msg.clone());
            let _ = self.done_tx.send(Done {
                token: job.token,
                outcome,
            });
            self.outstanding += 1;
        }
    }

    fn flush(&mut self, idle: &mut dyn FnMut()) {
        if self.batch.is_empty() {
            return;
        }
        self.grow(self.batch.len());
        if self.batch.is_empty() {
            return;
        }
        let mut batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let n = batch.len();
        let Some(tx) = &self.jobs else {
            return;
        };
        loop {
            match tx.send_timeout(batch, TICK) {
                Ok(()) => break self.outstanding += n,
                // Workers only exit once the queue is closed, so they can
                // only all be gone if they died; the jobs are then lost,
                // and counting them as done keeps the driver from waiting
                // forever.
                Err(flume::SendTimeoutError::Timeout(_))
                    if self.threads.iter().all(|t| t.is_finished()) =>
                {
                    break;
                }
                Err(flume::SendTimeoutError::Timeout(b)) => {
                    batch = b;
                    idle();
                }
                Err(flume::SendTimeoutError::Disconnected(_)) => break,
            }
        }
    }
}

impl Engine for UringEngine {
    fn submit(&mut self, job: CopyJob, idle: &mut dyn FnMut()) {
        self.batch.push(job);
        if self.holds() {
            return;
        }
        if self.batch.len() >= BATCH || self.outstanding < self.low_water {
            self.flush(idle);
        }
    }

    fn try_done(&mut self) -> Option<Done> {
        let d = self.done.try_recv().ok()?;
        self.outstanding -= 1;
        Some(d)
    }

    fn wait_done(&mut self, idle: &mut dyn FnMut()) -> Option<Done> {
        if !(self.holds() && self.run_inline()) {
            self.flush(idle);
        }
        if self.outstanding == 0 {
            return None;
        }
        loop {
            match self.done.recv_timeout(TICK) {
                Ok(d) => {
                    self.outstanding -= 1;
                    return Some(d);
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => idle(),
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return None,
            }
        }
    }
}

impl Drop for UringEngine {
    fn drop(&mut self) {
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// A ring thread's runtime: tuned where the kernel takes the flags,
/// else plain (see [`build_runtime`]).
fn runtime(cfg: &Config) -> std::io::Result<compio::runtime::Runtime> {
    build_runtime(cfg, true).or_else(|_| build_runtime(cfg, false))
}

/// One ring per thread. `tuned` asks the kernel not to interrupt this
/// thread's blocking syscalls (`copy_file_range`, `futimens`) to deliver
/// completions (COOP/DEFER_TASKRUN); older kernels refuse those flags, so
/// the caller retries without them.
fn build_runtime(cfg: &Config, tuned: bool) -> std::io::Result<compio::runtime::Runtime> {
    let mut proactor = ProactorBuilder::new();
    // Two pipelined files at full depth, or a buffer per lane.
    let pool = cfg
        .lanes
        .max(2 * cfg.depth)
        .clamp(1, 1 << 15)
        .next_power_of_two() as u16;
    proactor
        .buffer_pool_size(NonZero::new(pool).unwrap_or(NonZero::<u16>::MIN))
        .buffer_pool_buffer_len(cfg.chunk)
        .buffer_pool_allocator::<crate::sys::copy::PageAligned>();
    if tuned {
        proactor
            .coop_taskrun(true)
            .taskrun_flag(true)
            .single_issuer(true)
            .defer_taskrun(true);
    }
    compio::runtime::RuntimeBuilder::new()
        .with_proactor(proactor)
        .build()
}

fn worker(
    jobs: flume::Receiver<Vec<CopyJob>>,
    done: std::sync::mpsc::Sender<Done>,
    cfg: Arc<Config>,
) {
    let rt = match runtime(&cfg) {
        Ok(rt) => rt,
        Err(e) => {
            // No usable async driver at all: fail each job clearly.
            let msg = CopyError::EngineStart(e).to_string();
            while let Ok(batch) = jobs.recv() {
                for job in batch {
                    let _ = done.send(Done {
                        token: job.token,
                        outcome: Outcome::Fatal(msg.clone()),
                    });
                }
            }
            return;
        }
    };
    rt.block_on(async {
        // Only one task per thread waits on the cross-thread queue; it
        // hands jobs to this thread's lanes through a local queue. Waking
        // many tasks from another thread at once (as closing a shared
        // queue does) can stall compio's bounded remote-wake queue.
        let (local_tx, local_rx) = flume::bounded::<CopyJob>(cfg.lanes);
        let mut lanes = Vec::with_capacity(cfg.lanes);
        for _ in 0..cfg.lanes {
            let lane = lane(local_rx.clone(), done.clone(), Arc::clone(&cfg));
            lanes.push(compio::runtime::spawn(lane));
        }
        drop(local_rx);
        'feed: while let Ok(batch) = jobs.recv_async().await {
            for job in batch {
                if local_tx.send_async(job).await.is_err() {
                    break 'feed;
                }
            }
        }
        drop(local_tx);
        for l in lanes {
            let _ = l.await;
        }
    });
}

/// One lane: copies the jobs it is handed, one at a time, reusing one
/// buffer, until its queue closes (or nobody takes results any more).
async fn lane(
    jobs: flume::Receiver<CopyJob>,
    done: std::sync::mpsc::Sender<Done>,
    cfg: Arc<Config>,
) {
    let mut buf: Vec<u8> = Vec::new();
    while let Ok(job) = jobs.recv_async().await {
        let outcome = copy_one(&job, &cfg, &mut buf).await;
        let token = job.token;
        if done.send(Done { token, outcome }).is_err() {
            break;
        }
    }
}
