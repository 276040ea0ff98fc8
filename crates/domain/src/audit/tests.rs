use super::*;

fn entries(n: usize) -> Vec<Stored> {
    chain((0..n).map(|i| {
        let at = crate::timestamps::UnixMicros::new(1_700_000_000_000_000 + i as i64);
        Entry::new(at, Action::MessageSubmitted, Outcome::Success, Severity::Info)
            .by(&format!("org-{}", i % 3), "", String::new())
            .about(&format!("m-{i}"), "")
            .with_detail(r#"{"disclosed":["IDENTITY"]}"#.into())
    }))
}

fn verify(log: &[Stored]) -> Result<u64, ChainBreak> {
    let mut verifier = Verifier::new(1, GENESIS);
    for stored in log {
        verifier.push(stored)?;
    }
    Ok(verifier.checked())
}

/// Recomputes hashes after a tamper, as a forger would, from `from` on.
fn rehash(log: &mut [Stored]) {
    let mut previous = GENESIS;
    for stored in log.iter_mut() {
        stored.previous_hash = previous.to_vec();
        let hash = stored.entry.chain_hash(&previous);
        stored.hash = hash.to_vec();
        previous = hash;
    }
}

const POSITIONS: [usize; 3] = [0, 4, 9];

#[test]
fn an_intact_chain_verifies() {
    assert_eq!(verify(&entries(10)), Ok(10));
    assert_eq!(verify(&[]), Ok(0));
}

#[test]
fn editing_any_entry_names_it() {
    for at in POSITIONS {
        let mut log = entries(10);
        log[at].entry.detail = r#"{"disclosed":[]}"#.into();
        assert_eq!(verify(&log).unwrap_err().seq, at as u64 + 1, "edit at {at}");
        // Even every field of the encoding counts.
        let mut log = entries(10);
        log[at].entry.trace_id = "x".into();
        assert_eq!(verify(&log).unwrap_err().seq, at as u64 + 1);
    }
}

#[test]
fn editing_and_rehashing_is_caught_by_the_entries_after_or_a_checkpoint() {
    // A forger who rewrites entry 5 and recomputes every hash after it leaves a
    // chain that verifies on its own; only an earlier head (a checkpoint) tells.
    let original = entries(10);
    let mut forged = original.clone();
    forged[4].entry.actor_org = "someone-else".into();
    rehash(&mut forged);
    assert_eq!(verify(&forged), Ok(10));
    assert_ne!(forged[6].hash, original[6].hash, "a checkpoint at entry 7 no longer matches");
}

#[test]
fn deleting_any_entry_names_the_gap() {
    for at in POSITIONS {
        let mut log = entries(10);
        log.remove(at);
        let expected = if at == 9 { Ok(9) } else { Err(at as u64 + 1) };
        // Deleting the last entry leaves a valid shorter chain: the head count or
        // a checkpoint is what catches it (see the store's verification).
        assert_eq!(verify(&log).map_err(|b| b.seq), expected, "delete at {at}");
    }
}

#[test]
fn reordering_entries_names_the_first_out_of_place() {
    let mut log = entries(10);
    log.swap(3, 6);
    assert_eq!(verify(&log).unwrap_err().seq, 4);
    let mut log = entries(10);
    log.swap(0, 1);
    assert_eq!(verify(&log).unwrap_err().seq, 1);
    // Renumbering the swapped entries does not help the forger.
    let mut log = entries(10);
    log.swap(8, 9);
    log[8].entry.seq = 9;
    log[9].entry.seq = 10;
    assert_eq!(verify(&log).unwrap_err().seq, 9);
}

#[test]
fn inserting_an_entry_anywhere_is_caught() {
    for at in POSITIONS {
        let mut log = entries(10);
        let mut extra = log[at].clone();
        extra.entry.message_id = "inserted".into();
        log.insert(at, extra);
        for (i, stored) in log.iter_mut().enumerate() {
            stored.entry.seq = i as u64 + 1;
        }
        assert_eq!(verify(&log).unwrap_err().seq, at as u64 + 1, "insert at {at}");
    }
    // Appended at the end with a made-up hash.
    let mut log = entries(10);
    let mut extra = log[9].clone();
    extra.entry.seq = 11;
    log.push(extra);
    assert_eq!(verify(&log).unwrap_err().seq, 11);
}

#[test]
fn the_encoding_is_stable() {
    let entry = Entry { seq: 1, at: 2, action: "A".into(), ..Entry::default() };
    let canonical = entry.canonical();
    assert_eq!(&canonical[..8], b"RHAUDIT\x01");
    assert_eq!(&canonical[8..24], &[0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert_eq!(&canonical[24..29], &[0, 0, 0, 1, b'A']);
    assert_eq!(canonical.len(), 29 + 15 * 4);
    // Pinned (computed independently in Python from the documented encoding):
    // changing the encoding must be a deliberate new version.
    assert_eq!(hex(&entry.chain_hash(&GENESIS)), "54d518bf98e1a76466c85a7c4ecf2f0f3dce8f58463d363dc889b345e6fdee44");
}

#[test]
fn actions_round_trip() {
    for action in Action::ALL {
        assert_eq!(Action::parse(action.as_str()), Some(action));
    }
    assert_eq!(child_key_hash(""), "");
    assert_eq!(child_key_hash("k").len(), 64);
}
