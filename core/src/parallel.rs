//! Every core busy, natively: a fixed list of chunks mapped over the machine's threads, results
//! returned in chunk order. Callers merge them in that order, so the answer never depends on how
//! many threads ran (nor on which thread computed which chunk). WebAssembly has no threads here;
//! the page splits chunks across Web Workers instead (see the app's worker pool), with the same
//! chunks and the same merge order.

use std::cell::Cell;

thread_local! {
    static OVERRIDE: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Run `f` with at most `n` threads for the maps it starts from this thread (tests and
/// benchmarks: the answer must not change with `n`).
pub fn with_threads<R>(n: usize, f: impl FnOnce() -> R) -> R {
    let old = OVERRIDE.with(|o| o.replace(Some(n.max(1))));
    let r = f();
    OVERRIDE.with(|o| o.set(old));
    r
}

/// Threads to use: `STOCHGRAD_THREADS` if set (≥ 1), else the machine's available parallelism.
pub fn threads() -> usize {
    if let Some(n) = OVERRIDE.with(Cell::get) {
        return n;
    }
    #[cfg(target_arch = "wasm32")]
    {
        1
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::OnceLock;
        static THREADS: OnceLock<usize> = OnceLock::new();
        *THREADS.get_or_init(|| {
            if let Some(n) = std::env::var("STOCHGRAD_THREADS").ok().and_then(|v| v.trim().parse::<usize>().ok()) {
                return n.clamp(1, 256);
            }
            std::thread::available_parallelism().map_or(1, |n| n.get())
        })
    }
}

/// Below this much work (in rough multiply-adds) threads cost more than they save.
pub const MIN_PARALLEL_WORK: u64 = 1 << 18;

/// `f(0), f(1), …, f(n − 1)`, computed on up to [`threads`] threads when `work` (the whole map's
/// cost, in rough multiply-adds) is worth it, returned in index order.
pub fn map_chunks<T: Send, F: Fn(usize) -> T + Sync>(n: usize, work: u64, f: F) -> Vec<T> {
    // A team for this one map (its helpers start only if the map is worth sharing).
    with_team(|team| team.map(n, work, &f))
}

/// Threads kept for a whole computation that maps several passes in a row (the layer chain's
/// forward and backward passes): the helpers start once, on the first map worth sharing, wait for
/// the next map spinning for [`SPIN_MICROS`] then sleeping, and leave when the team ends. Results
/// come back in index order, as with [`map_chunks`]; which thread computed which index never
/// matters. Safe Rust: what a map's closure uses must outlive the team (`'env`) or be moved in.
pub struct Team<'scope, 'env: 'scope> {
    #[cfg(not(target_arch = "wasm32"))]
    scope: &'scope std::thread::Scope<'scope, 'env>,
    #[cfg(not(target_arch = "wasm32"))]
    helpers: std::cell::RefCell<Vec<std::sync::mpsc::Sender<Job<'env>>>>,
    /// Helpers wanted at most (threads − 1; none in WebAssembly).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    want: usize,
    _lifetimes: std::marker::PhantomData<(&'scope (), &'env ())>,
}

#[cfg(not(target_arch = "wasm32"))]
type Job<'env> = std::sync::Arc<dyn Fn() + Send + Sync + 'env>;

/// How long an idle helper spins before it sleeps (the next pass usually follows within
/// microseconds; waking a sleeping thread costs tens of them).
pub const SPIN_MICROS: u64 = 200;

/// Run `f` with a [`Team`] of up to [`threads`] threads (the caller's included).
pub fn with_team<'env, R>(f: impl for<'scope> FnOnce(&Team<'scope, 'env>) -> R) -> R {
    #[cfg(target_arch = "wasm32")]
    {
        f(&Team { want: 0, _lifetimes: std::marker::PhantomData })
    }
    #[cfg(not(target_arch = "wasm32"))]
    std::thread::scope(|scope| {
        let team = Team {
            scope,
            helpers: std::cell::RefCell::new(Vec::new()),
            want: threads() - 1,
            _lifetimes: std::marker::PhantomData,
        };
        let r = f(&team);
        drop(team); // closes the helpers' queues; the scope joins them
        r
    })
}

/// One map's shared state: the next index to take, the results, how many are done.
#[cfg(not(target_arch = "wasm32"))]
struct Shared<T, F> {
    n: usize,
    f: F,
    next: std::sync::atomic::AtomicUsize,
    finished: std::sync::atomic::AtomicUsize,
    panicked: std::sync::atomic::AtomicBool,
    slots: Vec<std::sync::Mutex<Option<T>>>,
}

#[cfg(not(target_arch = "wasm32"))]
impl<T, F: Fn(usize) -> T> Shared<T, F> {
    /// Take indices until none is left.
    fn run(&self) {
        use std::sync::atomic::Ordering;
        loop {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            if i >= self.n {
                return;
            }
            match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.f)(i))) {
                Ok(r) => *self.slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r),
                Err(_) => self.panicked.store(true, Ordering::Relaxed),
            }
            self.finished.fetch_add(1, Ordering::Release);
        }
    }
}

impl<'scope, 'env> Team<'scope, 'env> {
    /// `f(0), f(1), …, f(n − 1)` on the team when `work` (as for [`map_chunks`]) is worth it,
    /// returned in index order. A panic in `f` on any thread panics here.
    pub fn map<T, F>(&self, n: usize, work: u64, f: F) -> Vec<T>
    where
        T: Send + 'env,
        F: Fn(usize) -> T + Send + Sync + 'env,
    {
        #[cfg(target_arch = "wasm32")]
        {
            let _ = work;
            (0..n).map(f).collect()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            use std::sync::atomic::Ordering;
            let helpers = self.want.min(n.saturating_sub(1));
            if helpers == 0 || work < MIN_PARALLEL_WORK {
                return (0..n).map(f).collect();
            }
            self.start(helpers);
            let shared = std::sync::Arc::new(Shared {
                n,
                f,
                next: std::sync::atomic::AtomicUsize::new(0),
                finished: std::sync::atomic::AtomicUsize::new(0),
                panicked: std::sync::atomic::AtomicBool::new(false),
                slots: (0..n).map(|_| std::sync::Mutex::new(None)).collect(),
            });
            let job: Job<'env> = {
                let shared = shared.clone();
                std::sync::Arc::new(move || shared.run())
            };
            for tx in self.helpers.borrow().iter().take(helpers) {
                // A helper that has gone (it cannot, short of a bug) leaves its share to this thread.
                let _ = tx.send(job.clone());
            }
            shared.run();
            // The helpers' last indices may still be in flight.
            while shared.finished.load(Ordering::Acquire) < n {
                std::hint::spin_loop();
            }
            assert!(!shared.panicked.load(Ordering::Relaxed), "a parallel task panicked");
            shared
                .slots
                .iter()
                .map(|m| m.lock().unwrap_or_else(|e| e.into_inner()).take().expect("every index ran"))
                .collect()
        }
    }

    /// Make sure `k` helpers are running.
    #[cfg(not(target_arch = "wasm32"))]
    fn start(&self, k: usize) {
        let mut helpers = self.helpers.borrow_mut();
        while helpers.len() < k {
            let (tx, rx) = std::sync::mpsc::channel::<Job<'env>>();
            self.scope.spawn(move || helper(rx));
            helpers.push(tx);
        }
    }
}

/// A helper's life: run each job it is given; spin for [`SPIN_MICROS`] before sleeping.
#[cfg(not(target_arch = "wasm32"))]
fn helper(rx: std::sync::mpsc::Receiver<Job<'_>>) {
    use std::sync::mpsc::TryRecvError;
    loop {
        let t0 = std::time::Instant::now();
        let mut job = None;
        'spin: loop {
            for _ in 0..64 {
                match rx.try_recv() {
                    Ok(j) => {
                        job = Some(j);
                        break 'spin;
                    }
                    Err(TryRecvError::Empty) => std::hint::spin_loop(),
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            if t0.elapsed().as_micros() as u64 >= SPIN_MICROS {
                break;
            }
        }
        let job = match job {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        job();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_team_maps_pass_after_pass_in_index_order() {
        let base: Vec<u64> = (0..1000).collect();
        let out = with_team(|team| {
            let mut acc = Vec::new();
            for pass in 0..5u64 {
                let base = &base;
                let v = team.map(37, u64::MAX, move |i| base[i] * base[i] + pass);
                assert_eq!(v, (0..37).map(|i| (i * i) as u64 + pass).collect::<Vec<_>>());
                acc.push(v.iter().sum::<u64>());
                // Too little work to share, and an empty map.
                assert_eq!(team.map(3, 1, |i| i), vec![0, 1, 2]);
                assert!(team.map(0, u64::MAX, |i| i).is_empty());
            }
            acc
        });
        assert_eq!(out.len(), 5);
        // Whatever the number of threads.
        for t in 1..=3 {
            let v = with_threads(t, || with_team(|team| team.map(50, u64::MAX, |i| i * 3)));
            assert_eq!(v, (0..50).map(|i| i * 3).collect::<Vec<_>>());
        }
    }

    #[test]
    #[should_panic(expected = "a parallel task panicked")]
    fn a_panic_in_a_task_reaches_the_caller() {
        with_threads(2, || {
            with_team(|team| {
                team.map(64, u64::MAX, |i| {
                    if i == 63 {
                        panic!("task {i}");
                    }
                    i
                })
            })
        });
    }

    #[test]
    fn results_come_back_in_chunk_order() {
        let v = map_chunks(37, u64::MAX, |i| i * i);
        assert_eq!(v, (0..37).map(|i| i * i).collect::<Vec<_>>());
        assert!(map_chunks(0, u64::MAX, |i| i).is_empty());
    }
}
