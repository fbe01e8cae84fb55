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
    let t = threads().min(n);
    if t <= 1 || work < MIN_PARALLEL_WORK {
        return (0..n).map(f).collect();
    }
    #[cfg(target_arch = "wasm32")]
    {
        (0..n).map(f).collect()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use std::sync::Mutex;
        let next = AtomicUsize::new(0);
        let slots: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
        let work = || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                break;
            }
            let r = f(i);
            *slots[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        };
        std::thread::scope(|s| {
            for _ in 1..t {
                s.spawn(work);
            }
            work();
        });
        slots.into_iter().map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()).expect("every chunk ran")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_chunk_order() {
        let v = map_chunks(37, u64::MAX, |i| i * i);
        assert_eq!(v, (0..37).map(|i| i * i).collect::<Vec<_>>());
        assert!(map_chunks(0, u64::MAX, |i| i).is_empty());
    }
}
