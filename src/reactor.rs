//! The Web Worker side (wasm only): a yew-agent reactor whose scope implements the engine's
//! [`Port`]. Between chunks it yields a *macrotask* (a `MessageChannel` round trip, without
//! `setTimeout`'s 4 ms clamp) so that commands from the page are delivered and a new job cancels
//! the stale one at once.

use crate::engine::{serve, Port};
use crate::protocol::{Cmd, Out};
use futures::future::{select, Either};
use futures::{FutureExt, SinkExt, StreamExt};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use yew_agent::reactor::{reactor, ReactorScope};

/// Resolve after one macrotask.
async fn yield_macrotask() {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        if let Ok(ch) = web_sys::MessageChannel::new() {
            ch.port1().set_onmessage(Some(&resolve));
            let _ = ch.port2().post_message(&JsValue::NULL);
        } else {
            let _ = resolve.call0(&JsValue::NULL);
        }
    });
    let _ = JsFuture::from(p).await;
}

struct ScopePort {
    scope: ReactorScope<Cmd, Out>,
}

impl Port for ScopePort {
    async fn send(&mut self, out: Out) {
        let _ = self.scope.send(out).await;
    }
    async fn yield_now(&mut self) -> Option<Option<Cmd>> {
        yield_macrotask().await;
        self.scope.next().now_or_never()
    }
    async fn idle(&mut self, ms: f64) -> Option<Option<Cmd>> {
        let next = self.scope.next();
        // The platform's timer (cleared if a command comes first).
        let timer = gloo_timers::future::TimeoutFuture::new(ms.max(0.0).round() as u32);
        match select(next, timer).await {
            Either::Left((cmd, _)) => Some(cmd),
            Either::Right(_) => None,
        }
    }
    async fn wait(&mut self) -> Option<Cmd> {
        self.scope.next().await
    }
    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }
}

/// The engine reactor: serves jobs until the page drops the bridge.
#[reactor(EngineReactor)]
pub async fn engine_reactor(scope: ReactorScope<Cmd, Out>) {
    let mut port = ScopePort { scope };
    serve(&mut port).await;
}

/// The codec of the page's bridges to its workers: [`crate::protocol::encode`] / `decode`
/// (postcard) instead of yew-agent's default bincode.
pub struct Wire;

impl yew_agent::Codec for Wire {
    fn encode<I: serde::Serialize>(input: I) -> JsValue {
        js_sys::Uint8Array::from(crate::protocol::encode(&input).as_slice()).into()
    }
    fn decode<O: for<'de> serde::Deserialize<'de>>(input: JsValue) -> O {
        // Both ends are this module: a message that does not decode is a bug (bincode's codec panicked too).
        crate::protocol::decode(&js_sys::Uint8Array::from(input).to_vec()).expect("a worker message decodes")
    }
}
