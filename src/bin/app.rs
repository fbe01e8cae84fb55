//! The page and its Web Workers: one WebAssembly module for both (shared code ships once). On a
//! page it renders the app; loaded into a worker by the pool (`pool.rs`: a module worker that
//! imports this module's JavaScript glue) it serves the engine.
fn main() {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        if js_sys::global().dyn_ref::<web_sys::Window>().is_some() {
            yew::Renderer::<stochgrad_app::components::App>::new().render();
        } else {
            use yew_agent::Registrable;
            stochgrad_app::reactor::EngineReactor::registrar().encoding::<stochgrad_app::reactor::Wire>().register();
        }
    }
}
