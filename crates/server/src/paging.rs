//! Page sizes and page tokens, the same way on every list RPC (AIP-158).

/// Page size: 0 means the default, above the maximum is capped.
pub fn page_size(requested: u32, default: u32, max: u32) -> u32 {
    match requested {
        0 => default,
        n => n.min(max),
    }
}

/// The token of the next page: the key of the last item when the page is full.
pub fn next_page_token<T>(page: &[T], limit: u32, key: impl Fn(&T) -> String) -> String {
    match page.last() {
        Some(last) if page.len() == limit as usize => key(last),
        _ => String::new(),
    }
}
