//! The source's budget of calls in flight (`max_concurrency`), shared by every job of
//! every account, and the two ways a job that holds one slot may use more.
//!
//! A job waits for its one slot before it starts. Inside a job, calls that do not
//! depend on each other (a bucket's tagging and replication, EC2's instances and
//! volumes, the tables DynamoDB listed) run side by side on spare slots, and a job never
//! *needs* a second slot while it holds one: it keeps working on its own slot, so jobs
//! can never hold every slot between them while each waits for another. A spare slot
//! is taken in turn behind the jobs already waiting, so nothing is taken from them; at
//! the end of a scan, when slots fall free, the last jobs' calls spread out over them
//! instead of running one after another.

use std::future::Future;

use futures::StreamExt;
use tokio::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit};

use std::sync::Arc;

/// The slots a job waited for (`Semaphore::acquire_many`; the budget is never closed).
pub(crate) type Slots<'a> = Result<SemaphorePermit<'a>, AcquireError>;

/// Up to `want` slots that are free right now (none while other jobs wait for one).
pub(crate) fn spare_slots(budget: &Arc<Semaphore>, want: usize) -> Vec<OwnedSemaphorePermit> {
    let mut got = Vec::new();
    while got.len() < want {
        match budget.clone().try_acquire_owned() {
            Ok(p) => got.push(p),
            Err(_) => break,
        }
    }
    got
}

/// Runs `a` and `b`: `a` at once on the slot the caller holds, `b` beside it as soon as
/// a spare slot falls free, or after `a` on the caller's slot if none has by then. The
/// wait for a spare slot ends when `a` does, so it never holds up the caller; and the
/// spare slot goes back as soon as either call ends, so the one still running counts on
/// the caller's slot and no slot sits idle until the other ends.
pub(crate) async fn both<A, B>(
    budget: &Arc<Semaphore>,
    a: impl Future<Output = A>,
    b: impl Future<Output = B>,
) -> (A, B) {
    use futures::FutureExt;
    let a = a.fuse();
    let spare = budget.clone().acquire_owned().fuse();
    futures::pin_mut!(a, spare);
    let slot = futures::select_biased! {
        slot = spare => slot.ok(),
        out = a => return (out, b.await),
    };
    join_giving_back(a, b, slot).await
}

/// Runs `a` and `b` side by side on two slots, `spare` being one of them, and gives
/// `spare` back as soon as the first of the two ends: the one still running needs one
/// slot, not two, and the freed one goes to the next job at once.
pub(crate) async fn join_giving_back<A, B, G>(
    a: impl Future<Output = A>,
    b: impl Future<Output = B>,
    spare: Option<G>,
) -> (A, B) {
    use futures::FutureExt;
    let a = a.fuse();
    let b = b.fuse();
    futures::pin_mut!(a, b);
    let mut spare = spare;
    let (mut a_out, mut b_out) = (None, None);
    while a_out.is_none() || b_out.is_none() {
        futures::select_biased! {
            out = a => a_out = Some(out),
            out = b => b_out = Some(out),
        }
        drop(spare.take());
    }
    match (a_out, b_out) {
        (Some(a), Some(b)) => (a, b),
        _ => unreachable!("the loop ends when both calls have ended"),
    }
}

/// Runs `f` over `items` on the caller's slot and as many spare slots as are free (at
/// most `max_width` calls at once); the answers come back in the items' order.
pub(crate) async fn each<T, R, F, Fut>(
    budget: &Arc<Semaphore>,
    items: Vec<T>,
    max_width: usize,
    f: F,
) -> Vec<R>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = R>,
{
    if items.len() <= 1 {
        let mut out = Vec::new();
        for i in items {
            out.push(f(i).await);
        }
        return out;
    }
    let spare = spare_slots(budget, max_width.min(items.len()).saturating_sub(1));
    let width = 1 + spare.len();
    let out = futures::stream::iter(items.into_iter().map(f))
        .buffered(width)
        .collect()
        .await;
    drop(spare);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Counts calls in flight and the most at once.
    #[derive(Default)]
    struct InFlight {
        now: AtomicUsize,
        most: AtomicUsize,
    }

    impl InFlight {
        async fn call(&self, ms: u64) {
            let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
            self.most.fetch_max(n, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            self.now.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn independent_calls_spread_over_free_slots_only() {
        let budget = Arc::new(Semaphore::new(4));
        let held = budget.clone().acquire_owned().await.unwrap();
        let calls = InFlight::default();
        let got = each(&budget, (0..10).collect(), 8, |i| {
            let calls = &calls;
            async move {
                calls.call(20).await;
                i * 2
            }
        })
        .await;
        assert_eq!(got, (0..10).map(|i| i * 2).collect::<Vec<_>>(), "in order");
        // The caller's slot and the three free ones.
        assert_eq!(calls.most.load(Ordering::SeqCst), 4);
        assert_eq!(budget.available_permits(), 3, "spare slots are given back");
        drop(held);
    }

    #[tokio::test]
    async fn a_job_never_needs_a_second_slot_and_never_jumps_the_queue() {
        let budget = Arc::new(Semaphore::new(2));
        let mine = budget.clone().acquire_owned().await.unwrap();
        // Another job holds the second slot, and a third waits for one.
        let other = budget.clone().acquire_owned().await.unwrap();
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move {
                let slot = budget.acquire_owned().await;
                tokio::time::sleep(Duration::from_millis(80)).await;
                slot.map(drop)
            }
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
        let calls = InFlight::default();
        let ((), ()) = both(&budget, calls.call(10), calls.call(10)).await;
        assert_eq!(calls.most.load(Ordering::SeqCst), 1, "one after the other");
        // The slot freed while `a` runs goes to the job that waited first.
        let calls = InFlight::default();
        let freed = async {
            tokio::time::sleep(Duration::from_millis(2)).await;
            drop(other);
        };
        let (((), ()), ()) = futures::join!(both(&budget, calls.call(20), calls.call(20)), freed);
        assert_eq!(calls.most.load(Ordering::SeqCst), 1);
        waiting.await.unwrap().unwrap();
        // A slot that falls free while `a` runs is taken for `b`.
        let blocker = budget.clone().acquire_owned().await.unwrap();
        let calls = InFlight::default();
        let freed = async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            drop(blocker);
        };
        let (((), ()), ()) = futures::join!(both(&budget, calls.call(40), calls.call(40)), freed);
        assert_eq!(calls.most.load(Ordering::SeqCst), 2);
        drop(mine);
        assert_eq!(budget.available_permits(), 2, "every slot given back");
    }

    /// `a` ends after 10 ms, `b` only once `look` has counted the free slots at 200 ms
    /// (what `look` returns): a moment when `b` runs on alone.
    fn b_runs_on_alone(
        budget: &Semaphore,
    ) -> (
        impl Future<Output = ()>,
        impl Future<Output = ()>,
        impl Future<Output = usize> + '_,
    ) {
        let (go_on, b_may_end) = tokio::sync::oneshot::channel::<()>();
        let a = tokio::time::sleep(Duration::from_millis(10));
        let b = async {
            b_may_end.await.ok();
        };
        let look = async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            let free = budget.available_permits();
            go_on.send(()).ok();
            free
        };
        (a, b, look)
    }

    #[tokio::test]
    async fn the_spare_slot_goes_back_when_the_first_of_the_two_calls_ends() {
        let budget = Arc::new(Semaphore::new(2));
        let _mine = budget.clone().acquire_owned().await.unwrap();
        // While `b` still runs after `a` has ended, one call is in flight: the caller's
        // slot is enough for it, so the spare one is free for the next job.
        let (a, b, look) = b_runs_on_alone(&budget);
        let (((), ()), free) = futures::join!(both(&budget, a, b), look);
        assert_eq!(
            free, 1,
            "the spare slot is given back while b runs on alone"
        );
        assert_eq!(budget.available_permits(), 1, "and nothing else is held");
    }

    #[tokio::test]
    async fn a_job_on_two_slots_gives_one_back_when_its_first_call_ends() {
        let budget = Semaphore::new(2);
        let mut slots = budget.acquire_many(2).await.unwrap();
        let second = slots.split(1);
        let (a, b, look) = b_runs_on_alone(&budget);
        let (((), ()), free) = futures::join!(join_giving_back(a, b, second), look);
        assert_eq!(
            free, 1,
            "one slot is free while the second call runs on alone"
        );
        drop(slots);
        assert_eq!(budget.available_permits(), 2);
    }
}
