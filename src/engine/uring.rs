//! The compio (io_uring) engine: a few threads, each with its own ring and
//! a fixed number of "lanes" — tasks that each copy one file at a time —
//! so many files are in flight at once while memory stays bounded
//! (one reusable buffer per lane).
//!
//! Jobs come from one shared bounded queue, so an idle lane on any thread
//! takes the next file (natural load balancing); results go back on an
//! unbounded queue the driver drains in its own time.

use std::num::NonZero;
use std::sync::Arc;
use std::thread::JoinHandle;

use compio::driver::ProactorBuilder;

use super::copy::copy_one;
use super::error::CopyError;
use super::{Config, CopyJob, Done, Engine, Outcome, TICK};

pub(super) struct UringEngine {
    jobs: Option<flume::Sender<Vec<CopyJob>>>,
    /// Kept to hand to threads started later.
    jobs_rx: flume::Receiver<Vec<CopyJob>>,
    done_tx: std::sync::mpsc::Sender<Done>,
    done: std::sync::mpsc::Receiver<Done>,
    cfg: Arc<Config>,
    /// The I/O threads started so far: one at the first job, another
    /// each time the work sent exceeds what the running ones' lanes hold,
    /// up to `cfg.threads`. A run with nothing or little to copy pays for
    /// one ring (or none) rather than one per core.
    threads: Vec<JoinHandle<()>>,
    /// Jobs not yet sent: the queue is crossed in batches, because each
    /// crossing costs lock traffic and a wake-up on both sides.
    batch: Vec<CopyJob>,
    /// Jobs sent and not yet done.
    outstanding: usize,
    /// Keep at least this many jobs with the workers before batching up.
    low_water: usize,
}

/// Jobs per queue crossing once the workers are busy.
const BATCH: usize = 64;

impl UringEngine {
    pub(super) fn start(cfg: Config) -> UringEngine {
        let (jobs_tx, jobs_rx) = flume::bounded::<Vec<CopyJob>>(cfg.threads * 2);
        let (done_tx, done_rx) = std::sync::mpsc::channel::<Done>();
        let low_water = cfg.threads * cfg.lanes;
        UringEngine {
            jobs: Some(jobs_tx),
            jobs_rx,
            done_tx,
            done: done_rx,
            cfg: Arc::new(cfg),
            threads: Vec::new(),
            batch: Vec::with_capacity(BATCH),
            outstanding: 0,
            low_water,
        }
    }

    /// Starts another I/O thread when the jobs about to be in flight fill
    /// the lanes of those running (the first job starts the first).
    fn grow(&mut self, sending: usize) {
        let running = self.threads.len();
        let busy = self.outstanding + sending;
        if running >= self.cfg.threads.max(1) || (running > 0 && busy <= running * self.cfg.lanes) {
            return;
        }
        let (rx, tx, cfg) = (
            self.jobs_rx.clone(),
            self.done_tx.clone(),
            Arc::clone(&self.cfg),
        );
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
        self.flush(idle);
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
    let rt = match build_runtime(&cfg, true).or_else(|_| build_runtime(&cfg, false)) {
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
