//! The one place pgboot runs plain work on several threads: [`map`].

/// `f` over `items`, in order, the items shared among up to four threads (one per core) when
/// there are enough of them to be worth it. Results come back in the items' order.
pub fn map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    const ENOUGH: usize = 64;
    let threads = std::env::var("T")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)));
    if threads < 2 || items.len() < ENOUGH {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|s| {
        let f = &f;
        let rest: Vec<_> = items[chunk..]
            .chunks(chunk)
            .map(|c| s.spawn(move || c.iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = items[..chunk].iter().map(f).collect();
        for h in rest {
            match h.join() {
                Ok(part) => out.extend(part),
                // The build aborts on panic; a debug build passes the panic on.
                Err(p) => std::panic::resume_unwind(p),
            }
        }
        out
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_at_any_size() {
        for n in [0, 1, 63, 64, 65, 1000, 10_001] {
            let items: Vec<usize> = (0..n).collect();
            let out = super::map(&items, |i| i * 2);
            assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        }
    }
}
