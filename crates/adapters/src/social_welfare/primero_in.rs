//! Reading the bodies Primero posts: every one wraps its record in `data`,
//! and a transition on Primero's referral and transfer routes carries the
//! case in `data.record`.

use serde_json::{Map, Value};

use crate::native_json::{Naming, Reader, parse};
use crate::{CodeMap, Inbound, NativeViolation};

/// The `data` object of a Primero body (`{"data": …}`), or a violation.
pub(super) fn data<'v>(r: &mut Reader<'_>, value: &'v Value) -> Option<&'v Map<String, Value>> {
    r.object(value, "body").and_then(|root| r.member_object(root, "data", ""))
}

/// A JSON object.
pub(super) type Object = Map<String, Value>;

/// A body on Primero's referral and transfer routes, read by `read` from
/// its `data` and the case in `data.record`.
pub(super) fn read_route(
    codes: &CodeMap,
    document: &[u8],
    read: impl FnOnce(&mut Reader<'_>, &Object, &Object) -> Inbound,
) -> Result<Vec<Inbound>, Vec<NativeViolation>> {
    let value = parse(document, "body")?;
    let mut r = Reader::new(Naming::Dotted, codes);
    let Some(data) = data(&mut r, &value) else {
        return r.finish(Vec::new());
    };
    let Some(record) = r.member_object(data, "record", "data") else {
        return r.finish(Vec::new());
    };
    let request = read(&mut r, data, record);
    r.finish(vec![request])
}
