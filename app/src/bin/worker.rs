//! The Web Worker: runs the core engine off the main thread.
fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        use yew_agent::Registrable;
        stochgrad_app::reactor::EngineReactor::registrar().register();
    }
}
