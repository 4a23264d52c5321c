//! Shrinking an operation whose answers differ: remove one thing at a time
//! (a selection, a condition, a field's arguments; a fragment spread becomes
//! an inline fragment) and keep the change while the answers still differ.

use crate::harness::{Check, Harness};
use crate::operation::{Operation, Sel};

/// Applies mutation number `target` to `sels` (counting down); true once
/// applied.
fn mutate(
    sels: &mut Vec<Sel>,
    fragments: &[crate::operation::Fragment],
    target: &mut usize,
) -> bool {
    let mut i = 0;
    while i < sels.len() {
        // Remove the selection.
        if sels.len() > 1 {
            if *target == 0 {
                sels.remove(i);
                return true;
            }
            *target -= 1;
        }
        match &mut sels[i] {
            Sel::Field {
                args, cond, sub, ..
            } => {
                if cond.is_some() {
                    if *target == 0 {
                        *cond = None;
                        return true;
                    }
                    *target -= 1;
                }
                if !args.is_empty() {
                    if *target == 0 {
                        args.clear();
                        return true;
                    }
                    *target -= 1;
                }
                if mutate(sub, fragments, target) {
                    return true;
                }
            }
            Sel::Inline { cond, sub, .. } => {
                if cond.is_some() {
                    if *target == 0 {
                        *cond = None;
                        return true;
                    }
                    *target -= 1;
                }
                if mutate(sub, fragments, target) {
                    return true;
                }
            }
            Sel::Spread { name, cond } => {
                if *target == 0 {
                    if let Some(f) = fragments.iter().find(|f| &f.name == name) {
                        sels[i] = Sel::Inline {
                            on: Some(f.on.clone()),
                            cond: cond.clone(),
                            sub: f.sub.clone(),
                        };
                        return true;
                    }
                }
                *target -= 1;
            }
        }
        i += 1;
    }
    false
}

/// The operation with mutation number `k` applied, if there is one.
fn candidate(op: &Operation, mut k: usize) -> Option<Operation> {
    let mut out = op.clone();
    let fragments = op.fragments.clone();
    if mutate(&mut out.selections, &fragments, &mut k) {
        return Some(out);
    }
    for i in 0..out.fragments.len() {
        let mut sub = out.fragments[i].sub.clone();
        if mutate(&mut sub, &fragments, &mut k) {
            out.fragments[i].sub = sub;
            return Some(out);
        }
    }
    None
}

/// The smallest operation found that still gives different answers.
pub async fn shrink(harness: &Harness, mut op: Operation) -> Operation {
    let mut checks = 0;
    'outer: loop {
        let mut k = 0;
        while let Some(smaller) = candidate(&op, k) {
            k += 1;
            checks += 1;
            if checks > 5000 {
                break 'outer;
            }
            let (text, variables) = smaller.text();
            if let Check::Differ { .. } = harness.check(&text, &variables).await {
                op = smaller;
                continue 'outer;
            }
        }
        break;
    }
    op
}
