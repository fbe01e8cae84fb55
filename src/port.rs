//! The worker's side of the bridge to the page: the [`Port`] it talks through (the yew-agent
//! reactor in the browser, a scripted port in native tests), why a job stops ([`Stop`]), and the
//! running job's play state and time slicing ([`Control`]). Below both the job runner
//! (`engine.rs`) and the split of large exact jobs across workers (`split.rs`).

#![allow(async_fn_in_trait)]

use crate::protocol::{ChunkResult, Cmd, Out};

/// Shortest interval between two progress reports of a long computation: each costs the page a
/// render (several milliseconds of its main thread, which shares the cores with the workers).
pub const PROGRESS_MS: f64 = 250.0;
/// Longest stretch of computation between two yields.
pub const SLICE_MS: f64 = 8.0;

/// The worker's connection to the page.
pub trait Port {
    async fn send(&mut self, out: Out);
    /// Yield to the event loop; `Some(Some(cmd))` if a command is waiting, `Some(None)` if the page
    /// went away, `None` if nothing arrived.
    async fn yield_now(&mut self) -> Option<Option<Cmd>>;
    /// Wait up to `ms` for a command (same answers as [`Port::yield_now`]).
    async fn idle(&mut self, ms: f64) -> Option<Option<Cmd>>;
    /// Wait for the next command; `None` if the page went away.
    async fn wait(&mut self) -> Option<Cmd>;
    fn now_ms(&self) -> f64;
}

/// Why a job stopped.
#[derive(Debug)]
pub enum Stop {
    /// A new command that is not for this job (a new `Start`).
    Next(Cmd),
    /// The page closed the bridge.
    Closed,
    /// Cancelled.
    Cancelled,
}

/// Play state of the running job.
pub(crate) struct Control {
    pub(crate) id: u64,
    pub(crate) playing: bool,
    pub(crate) step: bool,
    pub(crate) last_yield: f64,
    /// Helper workers available for splitting exact jobs (`split.rs`).
    pub(crate) helpers: u32,
    /// Helpers' answers not yet taken in.
    pub(crate) inbox: Vec<ChunkResult>,
    pub(crate) splits: u64,
    /// A Digits run was asked to skip its current trainer ([`Cmd::Skip`]).
    pub(crate) skip: bool,
}

impl Control {
    pub(crate) fn new<P: Port>(id: u64, playing: bool, helpers: u32, port: &P) -> Control {
        Control {
            id,
            playing,
            step: false,
            last_yield: port.now_ms(),
            helpers,
            inbox: Vec::new(),
            splits: 0,
            skip: false,
        }
    }

    /// A new number for a split computation of this job.
    pub(crate) fn next_split(&mut self) -> u64 {
        self.splits += 1;
        self.splits
    }

    /// The worker just yielded.
    pub(crate) fn touch<P: Port>(&mut self, port: &P) {
        self.last_yield = port.now_ms();
    }

    /// Apply a command; `Err` if it ends the job.
    pub(crate) async fn apply<P: Port>(&mut self, cmd: Cmd, port: &mut P) -> Result<(), Stop> {
        match cmd {
            Cmd::Helpers(n) => {
                self.helpers = n;
                Ok(())
            }
            Cmd::ChunkDone(r) => {
                self.inbox.push(*r);
                Ok(())
            }
            Cmd::Start(_) | Cmd::Race(_) | Cmd::Gating(_) | Cmd::Digits(_) | Cmd::Distribution(_) | Cmd::Field(_) => {
                Err(Stop::Next(cmd))
            }
            Cmd::Cancel => Err(Stop::Cancelled),
            Cmd::Ping(x) => {
                port.send(Out::Pong(x)).await;
                Ok(())
            }
            Cmd::Play { id } if id == self.id => {
                self.playing = true;
                Ok(())
            }
            Cmd::Pause { id } if id == self.id => {
                self.playing = false;
                self.step = false;
                Ok(())
            }
            Cmd::Skip { id } if id == self.id => {
                self.skip = true;
                Ok(())
            }
            Cmd::Step { id } if id == self.id => {
                self.playing = false;
                self.step = true;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Yield if the current slice is used up, and apply any waiting commands.
    pub(crate) async fn checkpoint<P: Port>(&mut self, port: &mut P) -> Result<(), Stop> {
        if port.now_ms() - self.last_yield < SLICE_MS {
            return Ok(());
        }
        self.force_yield(port).await
    }

    /// Yield now (a macrotask) and apply any waiting commands.
    pub(crate) async fn yield_now<P: Port>(&mut self, port: &mut P) -> Result<(), Stop> {
        self.force_yield(port).await
    }

    pub(crate) async fn force_yield<P: Port>(&mut self, port: &mut P) -> Result<(), Stop> {
        loop {
            match port.yield_now().await {
                None => break,
                Some(None) => return Err(Stop::Closed),
                Some(Some(cmd)) => self.apply(cmd, port).await?,
            }
        }
        self.last_yield = port.now_ms();
        Ok(())
    }
}
