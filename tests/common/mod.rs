//! What the app's native tests share.

use stochgrad_app::protocol;

/// Every message that crosses a test's port also crosses the wire: decoding its encoding gives a
/// message that encodes to the same bytes (floats bit for bit), so the codec loses nothing the
/// engine sends or receives.
pub fn over_the_wire<T: serde::Serialize + serde::de::DeserializeOwned>(message: T) -> T {
    let bytes = protocol::encode(&message);
    let back: T = protocol::decode(&bytes).expect("a worker message decodes");
    assert_eq!(protocol::encode(&back), bytes, "a worker message survives the wire");
    back
}
